"""Read-only reports for the editors: /stats figures and the exports' rows.

One definition of a subscriber everywhere here: a chat that finished sign-up (`onboarded_at`
set), whatever its status (active, paused, blocked). A chat that pressed /start and never
finished is counted apart, as «не завершили регистрацию».
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from bot.content.models import (
    CampaignCounts,
    CampaignKind,
    ItemKind,
    ItemStatus,
    Subscriber,
)
from bot.storage.campaigns import FOLDED_COLUMNS, campaign_counts
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


@dataclass(frozen=True, slots=True)
class SubscriberTotals:
    """Subscribers (sign-up finished) by status, role and organisation kind; and the chats
    that never finished sign-up, counted apart."""

    by_status: dict[str, int]
    by_role: dict[str, int]
    by_org: dict[str, int]
    unfinished: int

    @property
    def total(self) -> int:
        return sum(self.by_status.values())


def _finished() -> sa.ColumnElement[bool]:
    return subscribers.c.onboarded_at.is_not(None)


class ReportRepository:
    def __init__(self, engine: Database) -> None:
        self._engine = engine

    async def subscriber_totals(self) -> SubscriberTotals:
        """Two GROUP BY queries, whatever the number of subscribers."""
        s = subscribers.c
        finished = sa.case((_finished(), 1), else_=0)
        by_status: dict[str, int] = {}
        by_role: dict[str, int] = {}
        by_org: dict[str, int] = {}
        unfinished = 0
        async with self._engine.connect() as conn:
            for done, status, n in await conn.execute(
                sa.select(finished, s.status, sa.func.count()).group_by(finished, s.status)
            ):
                if done:
                    by_status[status] = by_status.get(status, 0) + n
                else:
                    unfinished += n
            for role, org_kind, n in await conn.execute(
                sa.select(s.role, s.org_kind, sa.func.count())
                .where(_finished())
                .group_by(s.role, s.org_kind)
            ):
                by_role[role or ""] = by_role.get(role or "", 0) + n
                by_org[org_kind or ""] = by_org.get(org_kind or "", 0) + n
        return SubscriberTotals(by_status, by_role, by_org, unfinished)

    async def new_by_week_and_role(self, starts: list[datetime]) -> dict[tuple[int, str], int]:
        """Subscribers who came (`created_at`) in each week, by role: {(week, role): n}.

        `starts` are the weeks' first moments, oldest first, already in the settings' zone; a
        week runs to the next start (the last one has no end). The bucket is a CASE over these
        bounds: portable SQL (date functions differ between SQLite and PostgreSQL) and counted
        by the database, never a row per subscriber in Python.
        """
        if not starts:
            return {}
        s = subscribers.c
        week = sa.case(
            *((s.created_at >= start, n) for n, start in reversed(list(enumerate(starts)))),
            else_=-1,
        )
        query = (
            sa.select(week, s.role, sa.func.count())
            .where(_finished(), s.created_at >= starts[0])
            .group_by(week, s.role)
        )
        async with self._engine.connect() as conn:
            return {
                (n, role or ""): count
                for n, role, count in await conn.execute(query)
                if n is not None and n >= 0
            }

    async def recent_campaigns(self, limit: int = 10) -> list[CampaignLine]:
        """The latest campaigns, newest first, with their deliveries counted by status (those
        folded by retention included)."""
        c = campaigns.c
        d = deliveries.c
        async with self._engine.connect() as conn:
            rows = list(
                await conn.execute(
                    sa.select(c.id, c.title, c.kind, c.created_at, c.item_id, *FOLDED_COLUMNS)
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
            counts = campaign_counts(
                counted[row.id], (row.folded_sent, row.folded_failed, row.folded_blocked)
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
        return await self._events_with_rsvps(
            now, (ItemStatus.APPROVED, ItemStatus.PUBLISHED), limit
        )

    async def _events_with_rsvps(
        self, since: datetime, statuses: tuple[ItemStatus, ...], limit: int
    ) -> list[EventRsvps]:
        """Events starting from `since` on, soonest first, with their «Напомнить» presses."""
        i = items.c
        presses = sa.func.count(reminders.c.id)
        query = (
            sa.select(i.id, i.title, i.starts_at, presses)
            .select_from(items.outerjoin(reminders, reminders.c.item_id == i.id))
            .where(
                i.kind == ItemKind.EVENT.value,
                i.starts_at >= since,
                i.status.in_([status.value for status in statuses]),
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
        """Every subscriber, oldest first, then the chats that never finished sign-up (oldest
        first), fetched in chunks (never all in memory)."""
        s = subscribers.c
        query = subscribers.select().order_by(
            sa.case((_finished(), 0), else_=1), s.created_at, s.chat_id
        )
        async with self._engine.connect() as conn:
            result = await conn.stream(query.execution_options(yield_per=STREAM_CHUNK))
            async for row in result:
                yield _to_subscriber(row)

    async def export_events(self, since: datetime, limit: int = 8) -> list[EventRsvps]:
        """Events to pick for the «Записи на мероприятие» export: the ones starting from
        `since` on (recent and upcoming, scheduled ones too), with their «Напомнить» presses."""
        return await self._events_with_rsvps(
            since, (ItemStatus.APPROVED, ItemStatus.SCHEDULED, ItemStatus.PUBLISHED), limit
        )

    async def event(self, item_id: int) -> EventHeader | None:
        i = items.c
        query = sa.select(i.id, i.title, i.starts_at).where(
            i.id == item_id, i.kind == ItemKind.EVENT.value
        )
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return EventHeader(row[0], row[1], as_utc(row[2])) if row else None

    async def count_rsvps(self, item_id: int) -> int:
        query = sa.select(sa.func.count()).where(reminders.c.item_id == item_id)
        async with self._engine.connect() as conn:
            return int((await conn.execute(query)).scalar_one())

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
