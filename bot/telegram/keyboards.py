"""The inline keyboards, built from the callback data in `bot.telegram.callbacks`.

Built directly as `InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(...)]])`, not with
aiogram's `InlineKeyboardBuilder`: the builder deep-copies every button it holds on each
`button()` and again in `as_markup()`, ten times the cost of the markup itself.

Keyboards that depend only on a few enum or flag arguments (the onboarding and /settings steps,
the confirmations, the /new steps) are built once per arguments and shared (`_shared`). A shared
markup goes to every chat that gets that keyboard, so nothing may change one after it is
returned: aiogram's markups and buttons are mutable models, and no handler touches them — a
different keyboard is built here, never edited out of another.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache, lru_cache
from typing import ParamSpec, TypeVar, cast
from urllib.parse import quote

from aiogram.filters.callback_data import CallbackData
from aiogram.types import (
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)

from bot import texts
from bot.content.models import Button as NeutralButton
from bot.content.models import (
    ButtonAction,
    Frequency,
    ItemKind,
    OrgKind,
    Role,
    Subscriber,
    SubscriberStatus,
    Topic,
)
from bot.telegram import callbacks as cb
from bot.telegram.callbacks import (
    Action,
    AnswerQuestion,
    AudienceAction,
    Calendar,
    Card,
    Confirm,
    Consent,
    DigestAction,
    DigestDo,
    EditSent,
    FeedAction,
    FeedDesk,
    Flow,
    NewAudience,
    NewBack,
    NewConfirm,
    NewEdit,
    NewKeep,
    NewKind,
    NewPlaceIsDate,
    NewSkip,
    NewStage,
    NewWhen,
    OpenSettings,
    PlanSchoolYear,
    PlanUnresolved,
    QueueAction,
    QueueCard,
    QueueDo,
    QueueSetKind,
    Remind,
    Section,
    SetFrequency,
    SetOrgKind,
    SetRole,
    ShareLink,
    Shelf,
    SkipOrgName,
    ToggleTopic,
    TopicsDone,
    Vote,
    WhenMode,
)

P = ParamSpec("P")
R = TypeVar("R")

ROW_MAX = 8  # Telegram's widest row of inline buttons


def _shared(build: Callable[P, R]) -> Callable[P, R]:
    """Built once per distinct arguments (all hashable and few), then the same object returned."""
    return cast(Callable[P, R], cache(build))


def _button(text: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data.pack())


def _markup(buttons: Sequence[InlineKeyboardButton], *sizes: int) -> InlineKeyboardMarkup:
    """The buttons in rows of `sizes`, the last size repeating for the rest — the layout
    `InlineKeyboardBuilder.adjust(*sizes)` gives (no sizes: rows of up to ROW_MAX)."""
    widths = sizes or (ROW_MAX,)
    rows: list[list[InlineKeyboardButton]] = []
    start = 0
    while start < len(buttons):
        width = widths[min(len(rows), len(widths) - 1)]
        rows.append(list(buttons[start : start + width]))
        start += width
    return InlineKeyboardMarkup(inline_keyboard=rows)


def _checked(label: str, on: bool) -> str:
    return f"✓ {label}" if on else label


def _back(flow: Flow) -> list[InlineKeyboardButton]:
    if flow is Flow.SETTINGS:
        return [_button("← Назад", OpenSettings(section=Section.MENU))]
    return []


@_shared
def roles(flow: Flow, current: Role | None = None) -> InlineKeyboardMarkup:
    buttons = [
        _button(_checked(label, role is current), SetRole(flow=flow, role=role))
        for role, label in texts.ROLE_LABELS.items()
    ]
    # «Воспитатель детского сада» needs a row of its own on a phone.
    return _markup([*buttons, *_back(flow)], 1, 1, 1, 1, 2, 1)


@_shared
def org_kinds(flow: Flow, current: OrgKind | None = None) -> InlineKeyboardMarkup:
    buttons = [
        _button(_checked(label, kind is current), SetOrgKind(flow=flow, org_kind=kind))
        for kind, label in texts.ORG_KIND_LABELS.items()
    ]
    return _markup([*buttons, *_back(flow)], 2, 2, 1)


@_shared
def org_name(flow: Flow) -> InlineKeyboardMarkup:
    label = texts.org_name_skip(flow is Flow.ONBOARDING)
    return _markup([_button(label, SkipOrgName(flow=flow)), *_back(flow)], 1)


@_shared
def topics(flow: Flow, chosen: frozenset[Topic]) -> InlineKeyboardMarkup:
    buttons = [
        _button(
            f"{'✅' if topic in chosen else '⬜'} {texts.TOPIC_LABELS[topic]}",
            ToggleTopic(flow=flow, topic=topic),
        )
        for topic in texts.TOPIC_ORDER
    ]
    return _markup([*buttons, _button("Готово", TopicsDone(flow=flow))], 1)


@_shared
def frequencies(flow: Flow, current: Frequency | None = None) -> InlineKeyboardMarkup:
    buttons = [
        _button(
            _checked(label, frequency is current), SetFrequency(flow=flow, frequency=frequency)
        )
        for frequency, label in texts.FREQUENCY_LABELS.items()
    ]
    return _markup([*buttons, *_back(flow)], 1)


def settings_menu(subscriber: Subscriber) -> InlineKeyboardMarkup:
    """Each button shows its value («Темы: материалы, мероприятия»)."""
    return _settings_menu(
        texts.settings_buttons(subscriber), subscriber.status is SubscriberStatus.PAUSED
    )


# Shared like the others, but the labels carry names: the most recent ones are kept.
@lru_cache(maxsize=1024)
def _settings_menu(labels: tuple[str, str, str, str, str], paused: bool) -> InlineKeyboardMarkup:
    if paused:
        pause = _button("▶️ Возобновить рассылку", OpenSettings(section=Section.RESUME))
    else:
        pause = _button("⏸ Приостановить рассылку", OpenSettings(section=Section.PAUSE))
    role, kind, name, topics, frequency = labels
    buttons = [
        _button(role, OpenSettings(section=Section.ROLE)),
        _button(kind, OpenSettings(section=Section.ORG_KIND)),
        _button(name, OpenSettings(section=Section.ORG_NAME)),
        _button(topics, OpenSettings(section=Section.TOPICS)),
        _button(frequency, OpenSettings(section=Section.FREQUENCY)),
        pause,
        _button(texts.SHARE_BUTTON, ShareLink()),
        _button("Закрыть", OpenSettings(section=Section.CLOSE)),
    ]
    return _markup(buttons, 1)


def confirm(action: Action, yes_label: str, no_label: str) -> InlineKeyboardMarkup:
    return _markup(
        [
            _button(yes_label, Confirm(action=action, yes=True)),
            _button(no_label, Confirm(action=action, yes=False)),
        ],
        1,
    )


@_shared
def confirm_stop() -> InlineKeyboardMarkup:
    return confirm(Action.STOP, "Да, приостановить", "Нет, продолжать")


@_shared
def confirm_forget() -> InlineKeyboardMarkup:
    return confirm(Action.FORGET, "Удалить мои данные", "Отмена")


# --- first run: consent, the main menu, word prompts, sharing ----------------------------------


@_shared
def consent() -> InlineKeyboardMarkup:
    return _markup(
        [
            _button(texts.CONSENT_BUTTON, Consent()),
            _button(texts.CONSENT_PRIVACY_BUTTON, Consent(privacy=True)),
        ],
        1,
    )


@_shared
def main_menu() -> ReplyKeyboardMarkup:
    """The big buttons under the input field; each one does what its command does."""
    return ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text=label) for label in row] for row in texts.MENU_ROWS],
        resize_keyboard=True,
        is_persistent=True,
        input_field_placeholder=texts.MENU_PLACEHOLDER,
    )


@_shared
def word_prompt(placeholder: str) -> ForceReply:
    """A question that needs words: the phone opens the keyboard, replying to it."""
    return ForceReply(force_reply=True, input_field_placeholder=placeholder)


@_shared
def share_button() -> InlineKeyboardMarkup:
    """Under the first run's summary: passing the bot on is one tap from the start."""
    return _markup([_button(texts.SHARE_BUTTON, ShareLink())])


def share(link: str) -> InlineKeyboardMarkup:
    url = f"https://t.me/share/url?url={quote(link, safe='')}&text={quote(texts.SHARE_TEXT)}"
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=texts.SHARE_PICK_CHAT, url=url)]]
    )


# --- what's next and browsing ------------------------------------------------------------------


def card(shelf: Shelf, index: int, total: int, item_id: int, votes: bool) -> InlineKeyboardMarkup:
    rows: list[list[InlineKeyboardButton]] = []
    if votes:
        rows.append(
            [
                _button("👍 Полезно", Vote(item_id=item_id, useful=True)),
                _button("🙅 Не про меня", Vote(item_id=item_id, useful=False)),
            ]
        )
    nav = []
    if index > 0:
        nav.append(_button("◂ Назад", Card(shelf=shelf, index=index - 1)))
    if index + 1 < total:
        nav.append(_button("Ещё ▸", Card(shelf=shelf, index=index + 1)))
    if nav:
        rows.append(nav)
    return InlineKeyboardMarkup(inline_keyboard=rows)


# --- the editors' queue (/queue) -----------------------------------------------------------------


def queue_card(
    item_id: int, index: int, total: int, approvable: bool, *, kind: ItemKind
) -> InlineKeyboardMarkup:
    labels = {**texts.QUEUE_BUTTONS, **_queue_kind_labels(kind)}

    def do(action: QueueAction) -> InlineKeyboardButton:
        return _button(labels[action.value], QueueDo(action=action, item_id=item_id, index=index))

    first = [do(QueueAction.APPROVE)] if approvable else []
    rows = [
        [*first, do(QueueAction.REJECT)],
        [do(QueueAction.EDIT), do(QueueAction.MOVE)],
        [do(QueueAction.KIND), do(QueueAction.TITLE)],
        [do(QueueAction.PUBLISH)],
        [do(QueueAction.DELETE)],
    ]
    nav = []
    if index > 0:
        nav.append(_button(labels["back"], QueueCard(index=index - 1)))
    if index + 1 < total:
        nav.append(_button(labels["forward"], QueueCard(index=index + 1)))
    if nav:
        rows.append(nav)
    return InlineKeyboardMarkup(inline_keyboard=rows)


def queue_confirm(
    action: QueueAction, item_id: int, index: int, yes: str | None = None
) -> InlineKeyboardMarkup:
    return _markup(
        [
            _button(
                yes or texts.QUEUE_CONFIRM[action.value][1],
                QueueDo(action=action, item_id=item_id, index=index, sure=True),
            ),
            _button(texts.QUEUE_BUTTONS["no"], QueueCard(index=index)),
        ],
        1,
    )


# --- /queue: a feed item's kind and title ---


def _queue_kind_labels(kind: ItemKind) -> dict[str, str]:
    labels = {
        QueueAction.KIND.value: texts.QUEUE_KIND_BUTTON.format(kind=texts.queue_kind_name(kind)),
        QueueAction.TITLE.value: texts.QUEUE_TITLE_BUTTON,
    }
    if kind is ItemKind.ANNOUNCEMENT:  # never in a digest: approving it sends it out
        labels[QueueAction.APPROVE.value] = texts.QUEUE_APPROVE_ANNOUNCEMENT
    return labels


def queue_kinds(item_id: int, index: int, current: ItemKind) -> InlineKeyboardMarkup:
    """The four kinds, the current one checked; «Нет, назад» returns to the card."""
    buttons = [
        _button(
            _checked(label, kind is current),
            QueueSetKind(item_id=item_id, index=index, was=current, kind=kind),
        )
        for kind, label in texts.QUEUE_KIND_LABELS.items()
    ]
    buttons.append(_button(texts.QUEUE_BUTTONS["no"], QueueCard(index=index)))
    return _markup(buttons, 2, 2, 1)


# --- /new: an editor's post --------------------------------------------------------------------


@_shared
def new_kinds() -> InlineKeyboardMarkup:
    buttons = [_button(label, NewKind(kind=kind)) for kind, label in texts.NEW_KIND_LABELS.items()]
    return _markup(buttons, 2, 2)


@_shared
def new_step(
    stage: NewStage, *, skip: bool = False, keep: bool = False, back: bool = True
) -> InlineKeyboardMarkup | None:
    """A typed step's buttons: «Пропустить» (optional fields), «Оставить как есть» (a value
    asked again), «◂ Назад»."""
    buttons = []
    if skip:
        buttons.append(_button(texts.NEW_SKIP, NewSkip(step=stage)))
    if keep:
        buttons.append(_button(texts.NEW_KEEP, NewKeep(stage=stage)))
    if back:
        buttons.append(_button(texts.NEW_BACK, NewBack(stage=stage)))
    return _markup(buttons, 2, 1) if buttons else None


@_shared
def new_understood(stage: NewStage) -> InlineKeyboardMarkup:
    return _markup([_button(texts.NEW_EDIT, NewEdit(stage=stage))])


@_shared
def new_place_is_date() -> InlineKeyboardMarkup:
    return _markup(
        [
            _button(texts.NEW_PLACE_IS_DATE, NewPlaceIsDate(is_date=True)),
            _button(texts.NEW_PLACE_IS_PLACE, NewPlaceIsDate(is_date=False)),
        ],
        1,
    )


def new_audience(roles: frozenset[Role], orgs: frozenset[OrgKind]) -> InlineKeyboardMarkup:
    buttons = [
        _button(
            _checked(texts.new_role_label(role), role in roles),
            NewAudience(action=AudienceAction.ROLE, code=role.value),
        )
        for role in texts.ROLE_LABELS
    ]
    buttons += [
        _button(
            _checked(texts.new_org_label(kind), kind in orgs),
            NewAudience(action=AudienceAction.ORG, code=kind.value),
        )
        for kind in texts.ORG_KIND_LABELS
    ]
    # The last row: «◂ Назад», «Всем», «Готово →».
    buttons += [
        _button(texts.NEW_BACK, NewBack(stage=NewStage.AUDIENCE)),
        _button(
            _checked(texts.NEW_AUDIENCE_ALL, not roles and not orgs),
            NewAudience(action=AudienceAction.ALL),
        ),
        _button(texts.NEW_AUDIENCE_DONE, NewAudience(action=AudienceAction.DONE)),
    ]
    return _markup(buttons, 2, 2, 2, 2, 2, 3)


@_shared
def new_when(digest: bool = True) -> InlineKeyboardMarkup:
    """«Сейчас», «С ближайшим дайджестом» (not for announcements: they are never in one),
    «Черновик», «◂ Назад»."""
    buttons = [
        _button(texts.NEW_WHEN_LABELS[mode.value], NewWhen(mode=mode))
        for mode in WhenMode
        if digest or mode is not WhenMode.DIGEST
    ]
    buttons.append(_button(texts.NEW_BACK, NewBack(stage=NewStage.WHEN)))
    return _markup(buttons, 1)


@_shared
def new_confirm(
    publish_now: bool, fields: tuple[NewStage, ...], nobody: bool = False
) -> InlineKeyboardMarkup:
    """The preview's buttons: publish (or save; not when «now» would reach nobody), a
    correction per field of this kind of post, cancel."""
    buttons = [
        _button(texts.NEW_EDIT_LABELS[field.value], NewEdit(stage=field)) for field in fields
    ]
    first = []
    if not (publish_now and nobody):
        first.append(
            _button(texts.NEW_PUBLISH if publish_now else texts.NEW_SAVE, NewConfirm(publish=True))
        )
    first.append(_button(texts.NEW_DROP, NewConfirm(publish=False)))
    return InlineKeyboardMarkup(inline_keyboard=[*_markup(buttons, 2).inline_keyboard, first])


# --- editors' feeds desk: /feeds ---------------------------------------------------------------


FEED_LABEL_MAX = 32  # what a phone shows of a full-width button


def feeds_desk(feeds: list[tuple[int, str]]) -> InlineKeyboardMarkup:
    """A button per feed: (id, short label); «➕ Добавить ленту» last."""
    buttons = [
        _button(
            _fit(f"№{feed_id} {label}", FEED_LABEL_MAX),
            FeedDesk(action=FeedAction.OPEN, feed_id=feed_id),
        )
        for feed_id, label in feeds
    ]
    buttons.append(_button(texts.FEED_ADD_BUTTON, FeedDesk(action=FeedAction.ADD)))
    return _markup(buttons, 1)


def _fit(label: str, limit: int) -> str:
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


@_shared
def _feed_back_button() -> InlineKeyboardButton:
    return _button(texts.FEED_DESK_BUTTON_BACK, FeedDesk(action=FeedAction.LIST))


def feed_card(feed_id: int, enabled: bool, auto_approve: bool) -> InlineKeyboardMarkup:
    if enabled:
        pause = _button(
            texts.FEED_DESK_BUTTON_PAUSE, FeedDesk(action=FeedAction.PAUSE, feed_id=feed_id)
        )
    else:
        pause = _button(
            texts.FEED_DESK_BUTTON_RESUME, FeedDesk(action=FeedAction.RESUME, feed_id=feed_id)
        )
    if auto_approve:
        auto = _button(
            texts.FEED_DESK_BUTTON_AUTO_OFF, FeedDesk(action=FeedAction.AUTO_OFF, feed_id=feed_id)
        )
    else:
        auto = _button(
            texts.FEED_DESK_BUTTON_AUTO_ON, FeedDesk(action=FeedAction.AUTO_ON, feed_id=feed_id)
        )
    remove = _button(
        texts.FEED_DESK_BUTTON_REMOVE, FeedDesk(action=FeedAction.REMOVE, feed_id=feed_id)
    )
    return _markup([pause, auto, remove, _feed_back_button()], 2, 1, 1)


def feed_remove_confirm(feed_id: int) -> InlineKeyboardMarkup:
    return _markup(
        [
            _button(
                texts.FEED_DESK_BUTTON_REMOVE_YES,
                FeedDesk(action=FeedAction.REMOVE_YES, feed_id=feed_id),
            ),
            _button(
                texts.FEED_DESK_BUTTON_REMOVE_NO, FeedDesk(action=FeedAction.OPEN, feed_id=feed_id)
            ),
        ],
        1,
    )


@_shared
def feed_back() -> InlineKeyboardMarkup:
    return _markup([_feed_back_button()])


# --- questions to the IMC and the plan upload ---------------------------------------------------


def answer_question(question_id: int) -> InlineKeyboardMarkup:
    return _markup([_button(texts.ANSWER_BUTTON, AnswerQuestion(question_id=question_id))])


def open_questions(question_ids: list[int]) -> InlineKeyboardMarkup | None:
    if not question_ids:
        return None
    buttons = [
        _button(f"{texts.ANSWER_BUTTON}: № {question_id}", AnswerQuestion(question_id=question_id))
        for question_id in question_ids
    ]
    return _markup(buttons, 2)


def plan_unresolved(school_year: tuple[int, int]) -> InlineKeyboardMarkup:
    data = PlanUnresolved(first_year=school_year[0], calendar=school_year[0] == school_year[1])
    return _markup([_button(texts.PLAN_UNRESOLVED_BUTTON, data)])


def plan_school_years(years: Sequence[tuple[int, int]]) -> InlineKeyboardMarkup:
    return _markup(
        [
            _button(
                texts.PLAN_SCHOOL_YEAR_BUTTON.format(first=first, second=second),
                PlanSchoolYear(first_year=first),
            )
            for first, second in years
        ],
        len(years),
    )


def edit_sent(item_id: int, version: int, count: int) -> InlineKeyboardMarkup:
    return _markup(
        [
            _button(
                texts.EDIT_SENT_BUTTON.format(count=count),
                EditSent(item_id=item_id, version=version, everywhere=True),
            ),
            _button(
                texts.EDIT_BOT_ONLY_BUTTON,
                EditSent(item_id=item_id, version=version, everywhere=False),
            ),
        ],
        1,
    )


# --- outside the private chat ----------------------------------------------------------------


def open_private_chat(username: str) -> InlineKeyboardMarkup | None:
    """«Открыть бота»: the bot's private chat, from a group it was added to."""
    if not username:
        return None
    url = f"https://t.me/{username}"
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=texts.OPEN_PRIVATE_CHAT, url=url)]]
    )


# --- digests you can act on --------------------------------------------------------------------


def _neutral_button(button: NeutralButton) -> InlineKeyboardButton:
    if button.action is ButtonAction.REMIND:
        assert button.item_id is not None, "a reminder button names its event"
        return _button(button.text, Remind(item_id=button.item_id))
    if button.action is ButtonAction.SETTINGS:
        return _button(button.text, DigestDo(action=DigestAction.SETTINGS))
    return _button(button.text, DigestDo(action=DigestAction.PAUSE))


def from_buttons(rows: Sequence[Sequence[NeutralButton]]) -> InlineKeyboardMarkup | None:
    """A campaign message's neutral buttons (content.models.Button) as Telegram's keyboard."""
    if not rows:
        return None
    keyboard = [[_neutral_button(button) for button in row] for row in rows]
    return InlineKeyboardMarkup(inline_keyboard=keyboard)


def digest_paused(markup: InlineKeyboardMarkup, paused: bool) -> InlineKeyboardMarkup:
    """The digest's keyboard with «Пауза» turned into «Возобновить» (or back); the rest kept."""
    pause = _button(texts.DIGEST_PAUSE_BUTTON, DigestDo(action=DigestAction.PAUSE))
    resume = _button(texts.DIGEST_RESUME_BUTTON, DigestDo(action=DigestAction.RESUME))
    toggles = {pause.callback_data, resume.callback_data}
    rows = [
        [
            (resume if paused else pause) if button.callback_data in toggles else button
            for button in row
        ]
        for row in markup.inline_keyboard
    ]
    return InlineKeyboardMarkup(inline_keyboard=rows)


def item_card(
    item_id: int, title: str, *, remind: bool, export: bool, votes: bool
) -> InlineKeyboardMarkup | None:
    """Under an entry opened from a digest: «Напомнить: <title>» (it turns into «✅ Напомню»
    when pressed, as under an answer) and «В календарь» for an event ahead, the votes for a
    material or a case."""
    rows: list[list[InlineKeyboardButton]] = []
    if remind:
        rows.append(
            [_button(texts.DIGEST_REMIND_BUTTON.format(title=title), Remind(item_id=item_id))]
        )
    if export:
        rows.append([_button("📅 В календарь", Calendar(item_id=item_id))])
    if votes:
        rows.append(
            [
                _button("👍 Полезно", Vote(item_id=item_id, useful=True)),
                _button("🙅 Не про меня", Vote(item_id=item_id, useful=False)),
            ]
        )
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


# --- questions in own words, short answers ------------------------------------------------------

# Imported here, not in the shared list above, so parallel edits of that list merge cleanly.
from bot.telegram.callbacks import AnswerPage, Fallback, Offer, Unremind  # noqa: E402


def answer_keyboard(
    actions: Sequence[tuple[int, int, bool, bool, bool]],
    *,
    fold: tuple[int, AnswerPage] | None = None,
    back: AnswerPage | None = None,
    more: AnswerPage | None = None,
    others: bool = False,
) -> InlineKeyboardMarkup | None:
    """A row per entry that can be reminded of or put in a calendar, then the folded year-long
    rows, then «◂ Назад» and «Ещё ▸».

    actions: (number shown, item id, can remind, reminder set, can export).
    """
    rows: list[list[InlineKeyboardButton]] = []
    for number, item_id, can_remind, reminded, can_export in actions:
        row = []
        if reminded:
            row.append(_button(texts.ANSWER_REMINDED.format(n=number), Unremind(item_id=item_id)))
        elif can_remind:
            row.append(_button(texts.ANSWER_REMIND.format(n=number), Remind(item_id=item_id)))
        if can_export:
            row.append(_button(texts.ANSWER_CALENDAR.format(n=number), Calendar(item_id=item_id)))
        if row:
            rows.append(row)
    if fold is not None:
        label = texts.ANSWER_OTHERS_BUTTON if others else texts.ANSWER_FOLD_BUTTON
        rows.append([_button(label.format(count=fold[0]), fold[1])])
    nav = []
    if back is not None:
        nav.append(_button(texts.ANSWER_BACK, back))
    if more is not None:
        nav.append(_button(texts.ANSWER_MORE, more))
    if nav:
        rows.append(nav)
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


def fallback_offers(words: str | None) -> InlineKeyboardMarkup:
    """The menu, a search with the words written (when there are any) and a question to the
    IMC: one tap each."""
    rows = [[_button(texts.OFFER_MENU, Fallback(offer=Offer.MENU))]]
    if words:
        label = words if len(words) <= OFFER_WORDS else words[: OFFER_WORDS - 1].rstrip() + "…"
        search = Fallback(offer=Offer.SEARCH)
        rows.append([_button(texts.OFFER_SEARCH.format(words=label), search)])
    rows.append([_button(texts.OFFER_ASK, Fallback(offer=Offer.ASK))])
    return InlineKeyboardMarkup(inline_keyboard=rows)


OFFER_WORDS = 24  # the search button shows this many characters of the words


def mark_reminder(
    markup: InlineKeyboardMarkup | None, item_id: int, *, reminded: bool
) -> InlineKeyboardMarkup | None:
    """The answer's keyboard with the event's «⏰ Напомнить: N» turned into «✅ Напомню: N» (or
    back); None if the keyboard has neither."""
    if markup is None:
        return None
    old: CallbackData = Remind(item_id=item_id) if reminded else Unremind(item_id=item_id)
    new: CallbackData = Unremind(item_id=item_id) if reminded else Remind(item_id=item_id)
    label = texts.ANSWER_REMINDED if reminded else texts.ANSWER_REMIND
    packed = old.pack()
    found = False
    rows: list[list[InlineKeyboardButton]] = []
    for row in markup.inline_keyboard:
        fresh = []
        for button in row:
            if button.callback_data == packed:
                number = button.text.rpartition(": ")[2]
                fresh.append(_button(label.format(n=number), new))
                found = True
            else:
                fresh.append(button)
        rows.append(fresh)
    return InlineKeyboardMarkup(inline_keyboard=rows) if found else None


# --- the editors' panel («Пульт») ----------------------------------------------------------------

from bot.telegram.callbacks import PanelCommand, PanelOpen  # noqa: E402


@_shared
def panel(owner: bool) -> InlineKeyboardMarkup:
    """The Пульт: one button per editor command; «Редакторы» for owners only."""
    buttons = [
        _button(texts.PANEL_LABELS[command.value], PanelOpen(command=command))
        for command in PanelCommand
        if owner or command is not PanelCommand.EDITORS
    ]
    return _markup(buttons, 2)


# --- /feeds: a feed added by its link, then two questions by buttons ---

from bot.telegram.callbacks import FeedAddKind, FeedAddRoute  # noqa: E402


def feed_add_kinds(token: int) -> InlineKeyboardMarkup:
    return _markup(
        [
            _button(label, FeedAddKind(token=token, kind=kind))
            for kind, label in texts.FEED_ADD_KINDS.items()
        ],
        1,
    )


def feed_add_routes(token: int) -> InlineKeyboardMarkup:
    return _markup(
        [
            _button(texts.FEED_ADD_ROUTE_QUEUE, FeedAddRoute(token=token, auto=False)),
            _button(texts.FEED_ADD_ROUTE_AUTO, FeedAddRoute(token=token, auto=True)),
        ],
        1,
    )


# --- editors' reports: /stats «Подробнее» and /export by buttons ------------------------------


@_shared
def stats_more() -> InlineKeyboardMarkup:
    """Under the /stats picture: one «Подробнее» button per section, and the exports."""
    buttons = [
        _button(texts.STATS_SECTION_LABELS[section.value], cb.StatsMore(section=section))
        for section in cb.StatsSection
    ]
    buttons.append(_button(texts.STATS_EXPORT_BUTTON, cb.ExportPick(what=cb.ExportWhat.MENU)))
    return _markup(buttons, 2)


@_shared
def export_menu() -> InlineKeyboardMarkup:
    return _markup(
        [
            _button(
                texts.EXPORT_WHAT_LABELS["subscribers"],
                cb.ExportPick(what=cb.ExportWhat.SUBSCRIBERS),
            ),
            _button(texts.EXPORT_WHAT_LABELS["rsvp"], cb.ExportPick(what=cb.ExportWhat.RSVP)),
        ],
        1,
    )


@_shared
def export_formats(what: cb.ExportWhat, event: int = 0) -> InlineKeyboardMarkup:
    """Excel or CSV; «◂ Назад» to the menu (or, for an event, to the events)."""
    back = (
        cb.ExportPick(what=cb.ExportWhat.RSVP)
        if what is cb.ExportWhat.RSVP
        else cb.ExportPick(what=cb.ExportWhat.MENU)
    )
    return _markup(
        [
            *(
                _button(
                    texts.EXPORT_FORMAT_LABELS[fmt.value],
                    cb.ExportFile(what=what, event=event, fmt=fmt),
                )
                for fmt in cb.ExportAs
            ),
            _button(texts.EXPORT_BACK, back),
        ],
        2,
    )


def export_events(events: Sequence[tuple[int, str]]) -> InlineKeyboardMarkup:
    """(event id, label) per event, one a row; «◂ Назад» to the menu."""
    return _markup(
        [
            *(
                _button(label, cb.ExportPick(what=cb.ExportWhat.RSVP, event=item_id))
                for item_id, label in events
            ),
            _button(texts.EXPORT_BACK, cb.ExportPick(what=cb.ExportWhat.MENU)),
        ],
        1,
    )
