"""The subscriber and the vocabularies its preferences are made of."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from bot.content.cleaning import clean_name


class Role(StrEnum):
    HEAD = "head"
    COORDINATOR = "coordinator"
    TEACHER = "teacher"
    PRESCHOOL = "preschool"
    METHODIST = "methodist"
    OTHER = "other"


class OrgKind(StrEnum):
    SCHOOL = "school"
    KINDERGARTEN = "kindergarten"
    EXTRA = "extra"
    OTHER = "other"


class Topic(StrEnum):
    MATERIALS = "materials"
    EVENTS = "events"
    CASES = "cases"
    ANNOUNCEMENTS = "announcements"


class Frequency(StrEnum):
    WEEKLY = "weekly"
    DAILY = "daily"
    OFF = "off"


class SubscriberStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    BLOCKED = "blocked"


ALL_TOPICS: frozenset[Topic] = frozenset(Topic)
ORG_NAME_MAX = 200


@dataclass(frozen=True, slots=True)
class Subscriber:
    chat_id: int
    name: str
    username: str | None
    role: Role | None
    org_kind: OrgKind | None
    org_name: str | None
    topics: frozenset[Topic] = field(default=ALL_TOPICS)
    frequency: Frequency = Frequency.WEEKLY
    status: SubscriberStatus = SubscriberStatus.ACTIVE
    source: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    onboarded_at: datetime | None = None

    @property
    def onboarded(self) -> bool:
        return self.onboarded_at is not None


def normalise_org_name(text: str) -> str:
    """An organisation name as typed on a phone, as it will be shown (cleaning.clean_name):
    "" if nothing visible is left; the caller refuses that and names over ORG_NAME_MAX."""
    return clean_name(text)


def parse_source(payload: str | None) -> str | None:
    """A deep-link payload kept as the subscriber's source: short, URL-safe characters only."""
    if not payload:
        return None
    payload = payload.strip()[:64]
    if not payload or not all(c.isalnum() or c in "-_" for c in payload) or not payload.isascii():
        return None
    return payload


class ItemKind(StrEnum):
    MATERIAL = "material"
    EVENT = "event"
    CASE = "case"
    ANNOUNCEMENT = "announcement"


class ItemStatus(StrEnum):
    DRAFT = "draft"
    PENDING = "pending"  # waiting for an editor (new from a feed)
    APPROVED = "approved"  # goes into the next digest
    SCHEDULED = "scheduled"  # published by the timetable at publish_at
    PUBLISHED = "published"  # sent out as a post of its own
    REJECTED = "rejected"
    ARCHIVED = "archived"


class PublishMode(StrEnum):
    """When a new post reaches subscribers (the value is what the dialog stores)."""

    NOW = "now"
    AT = "at"
    DIGEST = "digest"
    DRAFT = "draft"


# Items subscribers may see: in digests, in "what's next", in browsing.
VISIBLE_STATUSES: frozenset[ItemStatus] = frozenset({ItemStatus.APPROVED, ItemStatus.PUBLISHED})


@dataclass(frozen=True, slots=True)
class Item:
    id: int
    kind: ItemKind
    title: str
    body: str = ""
    url: str | None = None
    status: ItemStatus = ItemStatus.DRAFT
    audience_roles: frozenset[Role] = frozenset()  # empty: everyone
    audience_orgs: frozenset[OrgKind] = frozenset()
    body_entities: str | None = None  # Telegram entities of body, JSON
    image_url: str | None = None
    feed_id: int | None = None
    guid: str | None = None
    published_at: datetime | None = None
    approved_at: datetime | None = None
    publish_at: datetime | None = None
    urgent: bool = False
    author_id: int | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    timing_text: str | None = None
    place: str | None = None
    registration_url: str | None = None
    organisation: str | None = None
    site_type: str | None = None
    source_key: str | None = None  # e.g. `plan:2021-2022:3` for an item of the annual plan
    timing_json: str | None = None  # the plan's resolved timing, content.plan When as JSON
    period_start: date | None = None  # days an ongoing activity covers (plan items)
    period_end: date | None = None
    audience_text: str | None = None  # the audience as the plan words it
    responsible_text: str | None = None  # who runs it, as the plan words it («Ответственный»)
    attachment_file_id: str | None = None  # an editor's photo or document (Telegram file id)
    attachment_kind: str | None = None  # "photo" or "document"
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def is_for(self, role: Role | None, org_kind: OrgKind | None) -> bool:
        """Whether someone with this role and organisation kind is in the item's audience."""
        role_ok = not self.audience_roles or (role is not None and role in self.audience_roles)
        org_ok = not self.audience_orgs or (
            org_kind is not None and org_kind in self.audience_orgs
        )
        return role_ok and org_ok


def preference_signature(
    frequency: Frequency, topics: frozenset[Topic], role: Role | None, org_kind: OrgKind | None
) -> str:
    """Subscribers with the same signature get the same digest; SQL builds the same string."""
    topic_codes = ",".join(sorted(t.value for t in topics))
    role_code = role.value if role else ""
    org_code = org_kind.value if org_kind else ""
    return f"{frequency.value}|{topic_codes}|{role_code}|{org_code}"


class CampaignKind(StrEnum):
    DIGEST = "digest"
    POST = "post"
    REMINDER = "reminder"
    BROADCAST = "broadcast"
    # Edits a post already sent: each delivery carries the sent message's id.
    EDIT = "edit"


class CampaignStatus(StrEnum):
    SENDING = "sending"
    PAUSED = "paused"  # quiet hours: continues in the morning
    DONE = "done"
    CANCELLED = "cancelled"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # gave up after the allowed attempts; `error` says why
    BLOCKED = "blocked"  # the subscriber blocked the bot or the chat is gone


# --- buttons under a message, as neutral data ----------------------------------------------------


class ButtonAction(StrEnum):
    """What a button under a campaign's message does; the transport turns it into its
    messenger's button (Telegram: callback data of bot/telegram/callbacks.py)."""

    REMIND = "remind"  # remind me of the event `item_id`
    SETTINGS = "settings"  # open the subscriber's settings
    PAUSE = "pause"  # pause the subscription (the button becomes «resume»)


@dataclass(frozen=True, slots=True)
class Button:
    text: str
    action: ButtonAction
    item_id: int | None = None


@dataclass(frozen=True, slots=True)
class MessagePart:
    """One Telegram message of a campaign: text plus entities (Bot API MessageEntity dicts).

    Besides the Bot API's entity types, an entity may be a `bot_link` (formatting.BotLink):
    a link that opens this bot with a start payload, made a real link by the transport, which
    knows the bot's address.
    """

    text: str
    entities: tuple[dict[str, object], ...] = ()
    # A photo or document (Telegram file id) sent with `text` as its caption (≤ 1024).
    photo: str | None = None
    document: str | None = None
    # Rows of buttons under the message.
    buttons: tuple[tuple[Button, ...], ...] = ()
    # A web page or picture shown as the message's large preview (a text message only).
    preview_url: str | None = None


@dataclass(frozen=True, slots=True)
class Audience:
    """Who receives a campaign. Always only active, onboarded subscribers."""

    frequency: Frequency | None = None  # digests: only subscribers with this frequency
    topic: Topic | None = None  # only subscribers who have this topic on
    roles: frozenset[Role] = frozenset()  # empty: any role
    org_kinds: frozenset[OrgKind] = frozenset()  # empty: any organisation kind
    chat_ids: tuple[int, ...] | None = None  # explicit recipients (reminders)
    # chat_ids as they are, subscribers or not: the Infozona channel.
    direct: bool = False
    # Digests: each subscriber gets the variant named by their preference signature, and
    # nobody whose signature has no variant (an empty digest is not sent).
    by_signature: bool = False


@dataclass(frozen=True, slots=True)
class Campaign:
    id: int
    key: str
    kind: CampaignKind
    title: str
    status: CampaignStatus
    total: int
    urgent: bool = False
    item_id: int | None = None
    created_by: int | None = None
    progress_chat_id: int | None = None
    progress_message_id: str | None = None  # the transport's id, as text
    created_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class CampaignCounts:
    total: int
    sent: int
    failed: int
    blocked: int
    pending: int

    @property
    def finished(self) -> bool:
        return self.pending == 0
