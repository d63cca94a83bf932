"""Read-only reports for the editors: /stats figures and the CSV exports' rows."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from bot.content.models import (
    CampaignCounts,
    CampaignKind,
    DeliveryStatus,
    ItemKind,
    ItemStatus,
    Subscriber,
)
from bot.storage.database import Database
from bot.storage.db import as_utc
from bot.storage.schema import campaigns, deliveries, item_feedback, items, reminders, subscribers
from bot.storage.subscribers import _to_subscriber

# Rows fetched per round trip while streaming an export.
STREAM_CHUNK = 500


@dataclass(frozen=True, slots=True)
class CampaignLine:
    id: int
    title: str
    kind: CampaignKind
    created_at: datetime | None
    counts: CampaignCounts
    item_id: int | None = None  # a post's (or a post edit's) item


@dataclass(frozen=True, slots=True)
class EventRsvps:
    item_id: int
    title: str
    starts_at: datetime | None
    count: int


@dataclass(frozen=True, slots=True)
class ItemVotes:
    item_id: int
    title: str
    kind: ItemKind
    useful: int
    not_for_me: int


@dataclass(frozen=True, slots=True)
class EventHeader:
    item_id: int
    title: str
    starts_at: datetime | None


@dataclass(frozen=True, slots=True)
class RsvpRow:
    chat_id: int
    name: str
    org_name: str
    pressed_at: datetime | None


class ReportRepository:
    def __init__(self, engine: Database) -> None:
        self._engine = engine

    async def subscribed_since(self, since: datetime) -> list[datetime]:
        """When each subscriber who came since `since` subscribed (the handler buckets them).

        Bucketing by ISO week in the settings' zone is done in Python: SQL date functions
        differ between SQLite and PostgreSQL, and one column of a few thousand rows is cheap.
        """
        query = sa.select(subscribers.c.created_at).where(subscribers.c.created_at >= since)
        async with self._engine.connect() as conn:
            rows = await conn.execute(query)
            return [at if at.tzinfo else at.replace(tzinfo=UTC) for (at,) in rows if at]

    async def recent_campaigns(self, limit: int = 10) -> list[CampaignLine]:
        """The latest campaigns, newest first, with their deliveries counted by status."""
        c = campaigns.c
        d = deliveries.c
        async with self._engine.connect() as conn:
            rows = list(
                await conn.execute(
                    sa.select(c.id, c.title, c.kind, c.created_at, c.item_id)
                    .order_by(c.created_at.desc(), c.id.desc())
                    .limit(limit)
                )
            )
            ids = [row.id for row in rows]
            counted: dict[int, dict[str, int]] = {i: {} for i in ids}
            if ids:
                for campaign_id, status, n in await conn.execute(
                    sa.select(d.campaign_id, d.status, sa.func.count())
                    .where(d.campaign_id.in_(ids))
                    .group_by(d.campaign_id, d.status)
                ):
                    counted[campaign_id][status] = n
        lines = []
        for row in rows:
            by_status = counted[row.id]
            counts = CampaignCounts(
                total=sum(by_status.values()),
                sent=by_status.get(DeliveryStatus.SENT.value, 0),
                failed=by_status.get(DeliveryStatus.FAILED.value, 0),
                blocked=by_status.get(DeliveryStatus.BLOCKED.value, 0),
                pending=by_status.get(DeliveryStatus.PENDING.value, 0),
            )
            kind = (
                CampaignKind(row.kind)
                if row.kind in CampaignKind._value2member_map_
                else CampaignKind.POST
            )
            lines.append(
                CampaignLine(row.id, row.title, kind, as_utc(row.created_at), counts, row.item_id)
            )
        return lines

    async def upcoming_rsvps(self, now: datetime, limit: int = 10) -> list[EventRsvps]:
        """The next events (by start) with how many pressed «Напомнить» on each."""
        i = items.c
        presses = sa.func.count(reminders.c.id)
        query = (
            sa.select(i.id, i.title, i.starts_at, presses)
            .select_from(items.outerjoin(reminders, reminders.c.item_id == i.id))
            .where(
                i.kind == ItemKind.EVENT.value,
                i.starts_at >= now,
                i.status.in_([ItemStatus.APPROVED.value, ItemStatus.PUBLISHED.value]),
            )
            .group_by(i.id, i.title, i.starts_at)
            .order_by(i.starts_at, i.id)
            .limit(limit)
        )
        async with self._engine.connect() as conn:
            return [
                EventRsvps(row[0], row[1], as_utc(row[2]), row[3])
                for row in await conn.execute(query)
            ]

    async def top_feedback(self, limit: int = 10) -> list[ItemVotes]:
        """Materials and cases with the most «👍» and «🙅» votes together."""
        f = item_feedback.c
        i = items.c
        useful = sa.func.sum(sa.case((f.useful.is_(True), 1), else_=0))
        total = sa.func.count(f.id)
        query = (
            sa.select(i.id, i.title, i.kind, useful, total)
            .select_from(item_feedback.join(items, items.c.id == f.item_id))
            .group_by(i.id, i.title, i.kind)
            .order_by(total.desc(), i.id)
            .limit(limit)
        )
        async with self._engine.connect() as conn:
            found = []
            for item_id, title, kind, yes, votes in await conn.execute(query):
                item_kind = (
                    ItemKind(kind) if kind in ItemKind._value2member_map_ else ItemKind.MATERIAL
                )
                found.append(
                    ItemVotes(item_id, title, item_kind, int(yes or 0), votes - int(yes or 0))
                )
            return found

    async def stream_subscribers(self) -> AsyncIterator[Subscriber]:
        """Every subscriber, oldest first, fetched in chunks (never all in memory)."""
        query = subscribers.select().order_by(subscribers.c.created_at, subscribers.c.chat_id)
        async with self._engine.connect() as conn:
            result = await conn.stream(query.execution_options(yield_per=STREAM_CHUNK))
            async for row in result:
                yield _to_subscriber(row)

    async def event(self, item_id: int) -> EventHeader | None:
        i = items.c
        query = sa.select(i.id, i.title, i.starts_at).where(
            i.id == item_id, i.kind == ItemKind.EVENT.value
        )
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return EventHeader(row[0], row[1], as_utc(row[2])) if row else None

    async def stream_rsvps(self, item_id: int) -> AsyncIterator[RsvpRow]:
        """Who pressed «Напомнить» on the event, in the order they pressed it."""
        r = reminders.c
        s = subscribers.c
        query = (
            sa.select(r.chat_id, s.name, s.org_name, r.created_at)
            .select_from(reminders.outerjoin(subscribers, s.chat_id == r.chat_id))
            .where(r.item_id == item_id)
            .order_by(r.created_at, r.id)
        )
        async with self._engine.connect() as conn:
            result = await conn.stream(query.execution_options(yield_per=STREAM_CHUNK))
            async for row in result:
                yield _rsvp(row)


def _rsvp(row: Any) -> RsvpRow:
    return RsvpRow(row[0], row[1] or "", row[2] or "", as_utc(row[3]))
