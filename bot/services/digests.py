"""The digest service: what the timetable calls to compose a digest, and its preview."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Protocol

from bot import texts
from bot.content.digest import (
    EVENTS_AHEAD,
    DigestGroup,
    DigestPool,
    Period,
    digest_period,
    select_content,
)
from bot.content.models import (
    VISIBLE_STATUSES,
    Audience,
    Campaign,
    CampaignKind,
    Frequency,
    Item,
    ItemKind,
    MessagePart,
    OrgKind,
    Role,
    Topic,
)
from bot.storage.campaigns import CampaignRepository
from bot.storage.items import ItemRepository


class DigestGroups(Protocol):
    """Where the distinct preference groups come from (ItemRepository provides them)."""

    def distinct_signatures(self, frequency: Frequency) -> AsyncIterator[DigestGroup]: ...


@dataclass(frozen=True, slots=True)
class DigestResult:
    campaign: Campaign | None  # None: the slot was already taken, nothing was created
    variants: int  # distinct non-empty digests
    recipients: int

    def outcome(self) -> str:
        """One line for the timetable's log."""
        if self.campaign is None:
            return "already taken"
        return f"campaign={self.campaign.id} variants={self.variants} recipients={self.recipients}"


async def load_pool(
    items: ItemRepository,
    period: Period,
    now: datetime,
    frequency: Frequency,
    tz: tzinfo | None = None,
) -> DigestPool:
    """Everything the run may include, read once for all groups: materials and cases of the
    period, events of the coming fortnight and the plan's activities that meet it."""
    materials = await items.approved_between(ItemKind.MATERIAL, period.start, period.end)
    cases = await items.approved_between(ItemKind.CASE, period.start, period.end)
    zone = _zone(now, tz)
    today = now.astimezone(zone).date()
    events = await items.activities_between(now, now + EVENTS_AHEAD, today, today + EVENTS_AHEAD)
    return DigestPool.gather([*materials, *events, *cases], period, now, frequency, zone)


async def open_item(items: ItemRepository, item_id: int) -> Item | None:
    """The item a digest's link opens, if subscribers may still see it."""
    item = await items.get(item_id)
    if item is None or item.status not in VISIBLE_STATUSES:
        return None
    return item


def _zone(now: datetime, tz: tzinfo | None) -> tzinfo:
    return tz or now.tzinfo or UTC


async def create_digest(
    frequency: Frequency,
    slot_key: str,
    period_start: datetime,
    period_end: datetime,
    now: datetime,
    *,
    items: ItemRepository,
    subscribers: DigestGroups,
    campaigns: CampaignRepository,
    tz: tzinfo | None = None,
) -> DigestResult:
    """Compose the digest for the slot and fan it out into the outbox, at most once per slot.

    Subscribers are never loaded: only their distinct preference signatures, each rendered
    once (groups whose digests coincide share one rendering); the fan-out is one INSERT…SELECT.
    Dates are shown in `tz`, by default the time zone of `now` (the timetable's).
    """
    if frequency is Frequency.OFF:
        raise ValueError("there is no digest for frequency OFF")
    # A cheap early exit; CampaignRepository.create is what makes the slot atomic.
    if await campaigns.get_by_key(slot_key) is not None:
        return DigestResult(None, 0, 0)
    zone = _zone(now, tz)
    period = Period(period_start, period_end)
    pool = await load_pool(items, period, now, frequency, zone)
    rendered: dict[object, list[MessagePart]] = {}
    variants: dict[str, list[MessagePart]] = {}
    async for group in subscribers.distinct_signatures(frequency):
        content = select_content(pool, group)
        if content.empty:
            continue
        parts = rendered.get(content.key)
        if parts is None:
            parts = rendered[content.key] = texts.digest_messages(content, frequency, period, zone)
        variants[group.signature] = parts
    campaign = await campaigns.create(
        slot_key,
        CampaignKind.DIGEST,
        texts.digest_title(frequency, period, zone),
        variants,
        Audience(frequency=frequency, by_signature=True),
        now=now.astimezone(UTC),
    )
    if campaign is None:
        return DigestResult(None, 0, 0)
    return DigestResult(campaign, len(variants), campaign.total)


async def preview_digest(
    role: Role | None,
    org_kind: OrgKind | None,
    topics: frozenset[Topic],
    frequency: Frequency,
    now: datetime,
    *,
    items: ItemRepository,
    period: Period | None = None,
    tz: tzinfo | None = None,
) -> list[MessagePart]:
    """The digest these preferences would get from a run at `now`; [] if it would be empty.

    The period defaults to the one a run at `now` covers (OFF previews as weekly). For an
    empty digest, texts.DIGEST_PREVIEW_EMPTY says so in Russian.
    """
    zone = _zone(now, tz)
    period = period or digest_period(frequency, now.astimezone(zone))
    pool = await load_pool(items, period, now, frequency, zone)
    content = select_content(pool, DigestGroup.of(frequency, topics, role, org_kind))
    if content.empty:
        return []
    shown = Frequency.WEEKLY if frequency is Frequency.OFF else frequency
    return texts.digest_messages(content, shown, period, zone)
