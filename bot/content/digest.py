"""The digest as domain logic: the period it covers, what each preference group gets, and how
its blocks are packed into Telegram-sized messages. No Telegram and no database here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo

from bot.content.models import (
    VISIBLE_STATUSES,
    Frequency,
    Item,
    ItemKind,
    ItemStatus,
    MessagePart,
    OrgKind,
    Role,
    Topic,
    preference_signature,
)
from bot.content.whatsnext import listed_months

# Telegram's limit for a message's text, in UTF-16 code units as Telegram counts them.
MESSAGE_LIMIT = 4096
# Telegram applies only a message's first 100 entities; a digest message ends before that.
ENTITIES_LIMIT = 100
EVENTS_AHEAD = timedelta(days=14)
# A plan activity without a date is in the digest when it begins within EVENTS_AHEAD and takes
# at most this long (a month, a week): «в течение года» would be in every digest.
PLAN_SPAN_MAX = timedelta(days=31)
DAILY_EVENTS_SOON = timedelta(days=2)
WORKDAYS = frozenset(range(5))  # Monday..Friday, as datetime.weekday() numbers them
ELLIPSIS = "…"
BLOCK_SEPARATOR = "\n\n"


# --- periods ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Period:
    """A half-open interval [start, end) of aware datetimes."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("a digest period needs time-zone-aware datetimes")
        if self.end < self.start:
            raise ValueError("a digest period cannot end before it starts")

    def __contains__(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


def weekly_period(run_at: datetime) -> Period:
    """The 7 days before the run."""
    return Period(run_at - timedelta(days=7), run_at)


def daily_period(run_at: datetime, run_weekdays: frozenset[int] = WORKDAYS) -> Period:
    """Since the previous daily run: the nearest earlier run day, same time of day.

    With runs on working days, Monday's digest covers the weekend too (since Friday's run).
    `run_at` should be in the timetable's time zone, so weekdays are the local ones.
    """
    for days_back in range(1, 8):
        start = run_at - timedelta(days=days_back)
        if start.weekday() in run_weekdays:
            return Period(start, run_at)
    raise ValueError("the daily digest must run on at least one weekday")


def digest_period(
    frequency: Frequency, run_at: datetime, run_weekdays: frozenset[int] = WORKDAYS
) -> Period:
    """The period a run covers; OFF has no runs and is previewed as weekly."""
    if frequency is Frequency.DAILY:
        return daily_period(run_at, run_weekdays)
    return weekly_period(run_at)


# --- selection -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DigestGroup:
    """Subscribers who get the same digest: one preference signature.

    `signature` is exactly the string the SQL fan-out builds for these subscribers.
    """

    signature: str
    topics: frozenset[Topic]
    role: Role | None
    org_kind: OrgKind | None

    @classmethod
    def of(
        cls,
        frequency: Frequency,
        topics: frozenset[Topic],
        role: Role | None,
        org_kind: OrgKind | None,
    ) -> DigestGroup:
        return cls(preference_signature(frequency, topics, role, org_kind), topics, role, org_kind)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


@dataclass(frozen=True, slots=True)
class DigestPool:
    """Everything one digest run may include, gathered once for all preference groups."""

    materials: tuple[Item, ...] = ()  # newest approval first
    events: tuple[Item, ...] = ()  # soonest first
    cases: tuple[Item, ...] = ()  # newest approval first
    plans: tuple[Item, ...] = ()  # plan activities without a date, the soonest beginning first

    @classmethod
    def gather(
        cls,
        items: Iterable[Item],
        period: Period,
        now: datetime,
        frequency: Frequency = Frequency.WEEKLY,
        tz: tzinfo | None = None,
    ) -> DigestPool:
        """The digest's rules applied to candidate items (in any order, of any kind).

        Materials and cases: visible and approved within the period. Events: visible and
        starting within EVENTS_AHEAD of `now`. Activities of the plan known only by a period
        («декабрь», «1–15 марта»): those that begin within EVENTS_AHEAD and last at most
        PLAN_SPAN_MAX (see `plan_begins`), days counted in `tz` (by default `now`'s).
        A daily digest would otherwise list the same fortnight of events every morning, so it
        keeps only events that are new in the period or start within DAILY_EVENTS_SOON.
        Announcements never go into a digest: they are posts of their own.
        """
        upcoming = Period(now, now + EVENTS_AHEAD)
        soon = Period(now, now + DAILY_EVENTS_SOON)
        today = now.astimezone(tz).date() if tz is not None else now.date()
        plan_until = today + (DAILY_EVENTS_SOON if frequency is Frequency.DAILY else EVENTS_AHEAD)
        materials: list[Item] = []
        events: list[Item] = []
        cases: list[Item] = []
        plans: list[tuple[date, int, Item]] = []
        for item in items:
            if item.status not in VISIBLE_STATUSES:
                continue
            if item.kind is ItemKind.EVENT:
                is_new = item.approved_at is not None and _utc(item.approved_at) in period
                if item.starts_at is None:
                    begins = plan_begins(item, today, today + EVENTS_AHEAD)
                    if begins is not None and (
                        frequency is not Frequency.DAILY or is_new or begins < plan_until
                    ):
                        plans.append((begins, item.id, item))
                    continue
                if _utc(item.starts_at) not in upcoming:
                    continue
                if frequency is not Frequency.DAILY or is_new or _utc(item.starts_at) in soon:
                    events.append(item)
            elif item.status is not ItemStatus.APPROVED:
                continue  # published: it went out as a post of its own already
            elif item.approved_at is None or _utc(item.approved_at) not in period:
                continue
            elif item.kind is ItemKind.MATERIAL:
                materials.append(item)
            elif item.kind is ItemKind.CASE:
                cases.append(item)

        def newest_first(item: Item) -> tuple[datetime, int]:
            assert item.approved_at is not None
            return _utc(item.approved_at), item.id

        def soonest_first(item: Item) -> tuple[datetime, int]:
            assert item.starts_at is not None
            return _utc(item.starts_at), item.id

        return cls(
            materials=tuple(sorted(materials, key=newest_first, reverse=True)),
            events=tuple(sorted(events, key=soonest_first)),
            cases=tuple(sorted(cases, key=newest_first, reverse=True)),
            plans=tuple(entry[2] for entry in sorted(plans, key=lambda entry: entry[:2])),
        )


def plan_begins(item: Item, first: date, until: date) -> date | None:
    """The day an activity without a date begins, if that is in [first, until) and it lasts at
    most PLAN_SPAN_MAX; else None. An activity of listed months («сентябрь, март, июнь»)
    begins with each of them."""
    months = listed_months(item)
    if months is not None:
        for year, month in months:
            if 1 <= month <= 12 and first <= date(year, month, 1) < until:
                return date(year, month, 1)
        return None
    start = item.period_start or item.period_end
    end = item.period_end or item.period_start
    if start is None or end is None or end - start > PLAN_SPAN_MAX:
        return None
    return start if first <= start < until else None


@dataclass(frozen=True, slots=True)
class DigestContent:
    """What one preference group's digest contains."""

    materials: tuple[Item, ...] = ()
    events: tuple[Item, ...] = ()
    case: Item | None = None  # the featured case
    plans: tuple[Item, ...] = ()  # plan activities beginning soon

    @property
    def empty(self) -> bool:
        return not self.materials and not self.events and self.case is None and not self.plans

    @property
    def key(self) -> tuple[tuple[int, ...], tuple[int, ...], int | None, tuple[int, ...]]:
        """Equal for groups whose digests are the same, so each is rendered once."""
        return (
            tuple(i.id for i in self.materials),
            tuple(i.id for i in self.events),
            self.case.id if self.case else None,
            tuple(i.id for i in self.plans),
        )


def select_content(pool: DigestPool, group: DigestGroup) -> DigestContent:
    """The part of the pool for this group's topics, role and organisation kind."""

    def for_group(items: tuple[Item, ...]) -> tuple[Item, ...]:
        return tuple(item for item in items if item.is_for(group.role, group.org_kind))

    materials = for_group(pool.materials) if Topic.MATERIALS in group.topics else ()
    events = for_group(pool.events) if Topic.EVENTS in group.topics else ()
    cases = for_group(pool.cases) if Topic.CASES in group.topics else ()
    plans = for_group(pool.plans) if Topic.EVENTS in group.topics else ()
    return DigestContent(materials, events, cases[0] if cases else None, plans)


# --- packing into messages -----------------------------------------------------------------------


def utf16_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji outside the BMP counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def _offset(entity: dict[str, object], key: str) -> int:
    value = entity[key]
    if not isinstance(value, int):
        raise TypeError(f"entity {key} must be an int, got {value!r}")
    return value


def join_blocks(blocks: Sequence[MessagePart], separator: str = BLOCK_SEPARATOR) -> MessagePart:
    """Blocks as one message, their entities moved to where each block now starts."""
    texts: list[str] = []
    entities: list[dict[str, object]] = []
    position = 0
    for index, block in enumerate(blocks):
        if index:
            texts.append(separator)
            position += utf16_len(separator)
        texts.append(block.text)
        entities.extend(
            {**entity, "offset": _offset(entity, "offset") + position} for entity in block.entities
        )
        position += utf16_len(block.text)
    return MessagePart("".join(texts), tuple(entities))


def truncate_words(text: str, limit: int, ellipsis: str = ELLIPSIS) -> str:
    """`text` cut to at most `limit` UTF-16 units on a word boundary, «…» marking the cut."""
    if utf16_len(text) <= limit:
        return text
    budget = limit - utf16_len(ellipsis)
    if budget <= 0:
        return ellipsis[: max(limit, 0)]
    used = 0
    fits = 0  # how many characters fit into the budget
    for char in text:
        used += 2 if ord(char) > 0xFFFF else 1
        if used > budget:
            break
        fits += 1
    cut = fits
    # Back to the last space, unless a single word takes most of the room: then cut inside it.
    space = max(text.rfind(" ", 0, fits + 1), text.rfind("\n", 0, fits + 1))
    if space > fits // 2:
        cut = space
    return text[:cut].rstrip() + ellipsis


def truncate_part(part: MessagePart, limit: int, ellipsis: str = ELLIPSIS) -> MessagePart:
    """A block too long for one message, cut on a word boundary; entities clipped to the cut."""
    if utf16_len(part.text) <= limit:
        return part
    text = truncate_words(part.text, limit, ellipsis)
    kept = utf16_len(text[: len(text) - len(ellipsis)])
    entities: list[dict[str, object]] = []
    for entity in part.entities:
        start = _offset(entity, "offset")
        end = min(start + _offset(entity, "length"), kept)
        if start < end:
            entities.append({**entity, "length": end - start})
    return MessagePart(text, tuple(entities))


def pack_blocks(
    blocks: Sequence[MessagePart],
    limit: int = MESSAGE_LIMIT,
    separator: str = BLOCK_SEPARATOR,
) -> list[MessagePart]:
    """Blocks packed, in order, into as few messages of at most `limit` as possible.

    A message ends only between blocks; a block longer than `limit` on its own is truncated.
    """
    return [message for message, _ in pack_indexed(blocks, limit, separator)]


def pack_indexed(
    blocks: Sequence[MessagePart],
    limit: int = MESSAGE_LIMIT,
    separator: str = BLOCK_SEPARATOR,
    entities_limit: int = ENTITIES_LIMIT,
) -> list[tuple[MessagePart, range]]:
    """As `pack_blocks`, each message with the indices of the blocks it holds. A message also
    ends before its entities would pass `entities_limit` (Telegram drops those beyond it)."""
    messages: list[tuple[MessagePart, range]] = []
    current: list[MessagePart] = []
    first = 0
    size = 0
    entities = 0
    gap = utf16_len(separator)
    for index, block in enumerate(blocks):
        block = truncate_part(block, limit)
        length = utf16_len(block.text)
        if current and (
            size + gap + length > limit or entities + len(block.entities) > entities_limit
        ):
            messages.append((join_blocks(current, separator), range(first, index)))
            current, size, entities, first = [], 0, 0, index
        size += (gap if current else 0) + length
        entities += len(block.entities)
        current.append(block)
    if current:
        messages.append((join_blocks(current, separator), range(first, len(blocks))))
    return messages
