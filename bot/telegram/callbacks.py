"""Callback data of every button: what a press carries back to the bot.

Prefixes carry a version digit: when a button's meaning changes, the prefix changes too, and old
buttons in people's chats fall through to the "this button is out of date" answer.

Every number a button carries is bounded: anyone can send any callback data, and a value that
fails its bounds (negative, past the database's integers, not a number) doesn't unpack, so the
press falls through to that same answer instead of reaching a handler and the database.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Any

from aiogram.filters.callback_data import CallbackData
from pydantic import Field

from bot.content.ids import DB_INT_MAX
from bot.content.models import (
    Frequency,
    ItemKind,
    OrgKind,
    Role,
    Topic,
)
from bot.content.topics import SUBJECTS

# A record's id (ids start at 1); a 0-based position in a list; a day as date.toordinal().
RecordId = Annotated[int, Field(ge=1, le=DB_INT_MAX)]
Position = Annotated[int, Field(ge=0, le=DB_INT_MAX)]
Day = Annotated[int, Field(ge=1, le=date.max.toordinal())]

# Prefixes of the editors' buttons: pressed by anyone else, they are refused and audited.
EDITOR_PREFIXES: list[str] = []


def editor_button(cls: type[CallbackData]) -> type[CallbackData]:
    """Mark a CallbackData class as an editor's button (see EDITOR_PREFIXES)."""
    EDITOR_PREFIXES.append(cls.__prefix__)
    return cls


class Flow(StrEnum):
    """Whether a preference button belongs to onboarding or to /settings."""

    ONBOARDING = "o"
    SETTINGS = "s"


class SetRole(CallbackData, prefix="r1"):
    flow: Flow
    role: Role


class SetOrgKind(CallbackData, prefix="k1"):
    flow: Flow
    org_kind: OrgKind


class SkipOrgName(CallbackData, prefix="n1"):
    flow: Flow


class ToggleTopic(CallbackData, prefix="t1"):
    flow: Flow
    topic: Topic


class TopicsDone(CallbackData, prefix="d1"):
    flow: Flow


class SetFrequency(CallbackData, prefix="f1"):
    flow: Flow
    frequency: Frequency


class Section(StrEnum):
    MENU = "menu"
    ROLE = "role"
    ORG_KIND = "org"
    ORG_NAME = "name"
    TOPICS = "topics"
    FREQUENCY = "freq"
    PAUSE = "pause"
    RESUME = "resume"
    CLOSE = "close"


class OpenSettings(CallbackData, prefix="s1"):
    section: Section


class Action(StrEnum):
    STOP = "stop"
    FORGET = "forget"


class Confirm(CallbackData, prefix="c1"):
    action: Action
    yes: bool


class NextPage(CallbackData, prefix="q1"):
    """A page of a what's-next answer; the window and audience travel in the button."""

    start: Day
    end: Day
    roles: Annotated[int, Field(ge=0, lt=1 << len(Role))]  # bit mask over Role, in order
    orgs: Annotated[int, Field(ge=0, lt=1 << len(OrgKind))]  # bit mask over OrgKind
    page: Position


class Remind(CallbackData, prefix="m1"):
    item_id: RecordId


class Calendar(CallbackData, prefix="i1"):
    item_id: RecordId


class Shelf(StrEnum):
    MATERIALS = "materials"
    CASES = "cases"
    SEARCH = "search"
    CASES_FOUND = "found"  # /cases with words: cases of a site or on a theme
    MATERIALS_FOUND = "mfound"  # /materials with words: materials on a topic


class Card(CallbackData, prefix="b1"):
    shelf: Shelf
    index: Position


class Vote(CallbackData, prefix="v1"):
    item_id: RecordId
    useful: bool


def mask(values: frozenset[Role] | frozenset[OrgKind], enum: type[Role] | type[OrgKind]) -> int:
    return sum(1 << n for n, member in enumerate(enum) if member in values)


def unmask(bits: int, enum: type[Role] | type[OrgKind]) -> frozenset[Any]:
    return frozenset(member for n, member in enumerate(enum) if bits & (1 << n))


class QueueAction(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    EDIT = "edit"
    MOVE = "move"
    PUBLISH = "publish"
    DELETE = "delete"
    KIND = "kind"  # opens the kinds to pick from (QueueSetKind)
    TITLE = "title"


# Destructive actions ask first; the same button with sure=True carries them out.
QUEUE_CONFIRMED = frozenset({QueueAction.REJECT, QueueAction.DELETE, QueueAction.PUBLISH})


@editor_button
class QueueCard(CallbackData, prefix="qc1"):
    """The queue's card at `index` (0-based)."""

    index: Position


@editor_button
class QueueDo(CallbackData, prefix="qd1"):
    action: QueueAction
    item_id: RecordId
    index: Position
    sure: bool = False


# --- /queue: a feed item's kind and title ---


@editor_button
class QueueSetKind(CallbackData, prefix="qk1"):
    """Make the queued item `kind`; `was` is the kind the card showed, so a press on a card
    older than another editor's change changes nothing."""

    item_id: RecordId
    index: Position
    was: ItemKind
    kind: ItemKind


@editor_button
class NewKind(CallbackData, prefix="nk1"):
    kind: ItemKind


class NewStage(StrEnum):
    """The steps of /new, in the order an event goes through them."""

    KIND = "kind"
    TEXT = "text"
    STARTS_AT = "date"
    PLACE = "place"
    REGISTRATION = "reg"
    ORGANISATION = "org"
    SITE_TYPE = "site"
    AUDIENCE = "aud"
    WHEN = "when"
    CONFIRM = "ok"


@editor_button
class NewSkip(CallbackData, prefix="ns2"):
    step: NewStage


@editor_button
class NewBack(CallbackData, prefix="nb1"):
    """«◂ Назад» pressed on the question of `stage`."""

    stage: NewStage


@editor_button
class NewEdit(CallbackData, prefix="ne1"):
    """«Изменить» a value already given; the dialog comes back to where it was."""

    stage: NewStage


@editor_button
class NewKeep(CallbackData, prefix="nq1"):
    """«Оставить как есть» on a question asked again."""

    stage: NewStage


@editor_button
class NewPlaceIsDate(CallbackData, prefix="nd1"):
    """The answer to «this place looks like a date — is it the new date?»."""

    is_date: bool


class AudienceAction(StrEnum):
    ROLE = "r"
    ORG = "o"
    ALL = "all"
    DONE = "done"


@editor_button
class NewAudience(CallbackData, prefix="na1"):
    action: AudienceAction
    code: str = ""


class WhenMode(StrEnum):
    NOW = "now"
    DIGEST = "digest"
    DRAFT = "draft"


@editor_button
class NewWhen(CallbackData, prefix="nw1"):
    mode: WhenMode


@editor_button
class NewConfirm(CallbackData, prefix="np1"):
    publish: bool


class FeedAction(StrEnum):
    LIST = "list"
    OPEN = "open"
    PAUSE = "pause"
    RESUME = "resume"
    AUTO_ON = "aon"
    AUTO_OFF = "aoff"
    REMOVE = "rm"
    REMOVE_YES = "rmy"
    ADD = "add"  # «➕ Добавить ленту»: asks for the link


@editor_button
class FeedDesk(CallbackData, prefix="fd1"):
    """Explicit actions (pause, resume), never toggles: a double tap can't undo itself."""

    action: FeedAction
    feed_id: Annotated[int, Field(ge=0, le=DB_INT_MAX)] = 0  # 0: no feed (the list)


@editor_button
class AnswerQuestion(CallbackData, prefix="qa1"):
    question_id: RecordId


@editor_button
class PlanUnresolved(CallbackData, prefix="pu1"):
    # The plan's school year, «2021» for 2021-2022; a calendar-year plan («на 2024 год») is
    # calendar=True. Old buttons have no `calendar`: they were all school years.
    first_year: Annotated[int, Field(ge=date.min.year, lt=date.max.year)]
    calendar: bool = False


@editor_button
class PlanSchoolYear(CallbackData, prefix="py1"):
    """The school year an editor picked for a plan whose title names none («2026»: 2026-2027)."""

    first_year: Annotated[int, Field(ge=2000, le=2100)]


@editor_button
class EditSent(CallbackData, prefix="ed1"):
    """After /edit: also change the sent messages (`everywhere`) or only the bot's copy.
    `version` names this edit: a double tap or an old button cannot start it twice."""

    item_id: RecordId
    version: Annotated[int, Field(ge=0, le=DB_INT_MAX)]
    everywhere: bool


# --- digests you can act on ----------------------------------------------------------------------


class DigestAction(StrEnum):
    SETTINGS = "s"
    PAUSE = "p"
    RESUME = "r"


class DigestDo(CallbackData, prefix="dg1"):
    """The last row under a digest: open the settings, pause, or undo the pause in place."""

    action: DigestAction


# --- questions in own words, short answers ------------------------------------------------------


class AnswerPage(CallbackData, prefix="q2"):
    """A page of a what's-next answer: the window, the audience and the topics asked about
    travel in the button; year_long opens the rows folded on the first screen."""

    start: Day
    end: Day
    roles: Annotated[int, Field(ge=0, lt=1 << len(Role))]  # bit mask over Role, in order
    orgs: Annotated[int, Field(ge=0, lt=1 << len(OrgKind))]  # bit mask over OrgKind
    topics: Annotated[int, Field(ge=0, lt=1 << len(SUBJECTS))]  # bit mask over SUBJECTS
    year_long: bool
    page: Position


class Unremind(CallbackData, prefix="m2"):
    """«✅ Напомню»: pressed again, the reminder is cancelled."""

    item_id: RecordId


class Offer(StrEnum):
    MENU = "menu"
    SEARCH = "search"
    ASK = "ask"


class Fallback(CallbackData, prefix="fb1"):
    """What the answer to a text the bot can't answer offers; the text waits in the chat's
    FSM data."""

    offer: Offer


# --- first run: consent, sharing -----------------------------------------------------------------


class Consent(CallbackData, prefix="g1"):
    """«Согласен(на)» under the greeting (`privacy`: «Что хранится» instead)."""

    privacy: bool = False


class ShareLink(CallbackData, prefix="sh1"):
    """«Поделиться с коллегой»: the deep link to pass on."""


# --- the editors' panel («Пульт») ----------------------------------------------------------------


class PanelCommand(StrEnum):
    """A Пульт button: the editor command it runs."""

    NEW = "new"
    QUEUE = "queue"
    EDIT = "edit"
    QUESTIONS = "questions"
    STATS = "stats"
    EXPORT = "export"
    FEEDS = "feeds"
    EDITORS = "editors"


@editor_button
class PanelOpen(CallbackData, prefix="pn1"):
    command: PanelCommand


# --- /feeds: a feed added by its link, then two questions by buttons ---

from bot.content.feeds import FeedKind  # noqa: E402

# The editor's message with the link: a press from an older question (another link sent
# since, or the feed already added) doesn't match the dialog's and changes nothing.
AddToken = Annotated[int, Field(ge=1, le=DB_INT_MAX)]


@editor_button
class FeedAddKind(CallbackData, prefix="fa1"):
    token: AddToken
    kind: FeedKind


@editor_button
class FeedAddRoute(CallbackData, prefix="fr1"):
    token: AddToken
    auto: bool


# --- editors' reports: /stats «Подробнее» and /export by buttons ------------------------------


class StatsSection(StrEnum):
    """A «Подробнее» button under /stats (the values are services.reports.Section's)."""

    SUBSCRIBERS = "subscribers"
    CAMPAIGNS = "campaigns"
    EVENTS = "events"
    FEEDBACK = "feedback"


@editor_button
class StatsMore(CallbackData, prefix="st1"):
    section: StatsSection


class ExportWhat(StrEnum):
    MENU = "menu"  # back to «Что выгрузить?»
    SUBSCRIBERS = "subscribers"
    RSVP = "rsvp"  # with event 0: pick the event


class ExportAs(StrEnum):
    XLSX = "xlsx"
    CSV = "csv"


@editor_button
class ExportPick(CallbackData, prefix="ex1"):
    """A step of the /export buttons: what to export (and for «Записи», which event)."""

    what: ExportWhat
    event: Position = 0


@editor_button
class ExportFile(CallbackData, prefix="ex2"):
    """Send the file: what, which event (0 for subscribers), in which format."""

    what: ExportWhat
    event: Position
    fmt: ExportAs
