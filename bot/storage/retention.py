"""Delivery retention: a finished campaign's old deliveries folded into its counts and deleted.

A batch is one transaction: rows of one campaign and one status are deleted and their number
added to the campaign's `folded_*` column together, so counts (folded plus the outbox's rows)
never change and an interrupted run leaves nothing half done; the next run goes on where it
stopped. A batch is a range of ids read in index order, so each transaction is bounded
whatever the campaign's size. Portable SQL (SQLite and PostgreSQL).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from bot.content.models import CampaignStatus, DeliveryStatus
from bot.storage.database import Connection, Database
from bot.storage.db import as_utc
from bot.storage.schema import campaigns, deliveries, timetable_runs

_c = campaigns.c
_d = deliveries.c

FOLDED = {
    DeliveryStatus.SENT.value: "folded_sent",
    DeliveryStatus.FAILED.value: "folded_failed",
    DeliveryStatus.BLOCKED.value: "folded_blocked",
}


class RetentionRepository:
    def __init__(self, engine: Database) -> None:
        self._engine = engine

    async def foldable(self, cutoff: datetime, limit: int) -> list[int]:
        """Campaigns finished before `cutoff` (done or cancelled, nothing pending) that still
        have deliveries in the outbox, oldest first."""
        has_rows = sa.exists().where(_d.campaign_id == _c.id)
        pending = sa.exists().where(
            _d.campaign_id == _c.id, _d.status == DeliveryStatus.PENDING.value
        )
        query = (
            sa.select(_c.id)
            .where(
                _c.status.in_([CampaignStatus.DONE.value, CampaignStatus.CANCELLED.value]),
                sa.func.coalesce(_c.finished_at, _c.created_at) < cutoff,
                has_rows,
                ~pending,
            )
            .order_by(_c.id)
            .limit(limit)
        )
        async with self._engine.connect() as conn:
            return [row[0] for row in await conn.execute(query)]

    async def last_run(self) -> tuple[datetime, str] | None:
        """When the timetable's retention job last finished, and its outcome line."""
        t = timetable_runs.c
        query = (
            sa.select(t.finished_at, t.outcome)
            .where(t.slot.like("retention:%"), t.finished_at.is_not(None))
            .order_by(t.finished_at.desc())
            .limit(1)
        )
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        if row is None or row[0] is None:
            return None
        when = as_utc(row[0])
        assert when is not None
        return when, row[1] or ""

    async def fold_batch(self, campaign_id: int, batch: int, now: datetime) -> int:
        """Fold up to `batch` of the campaign's settled deliveries of one status (lowest ids
        first) in one transaction; return how many rows went (0: none left). Pending rows are
        never touched."""
        async with self._engine.begin() as conn:
            for status, column in FOLDED.items():
                upper = await _batch_upper_id(conn, campaign_id, status, batch)
                if upper is None:
                    continue
                deleted = await conn.execute(
                    deliveries.delete().where(
                        _d.campaign_id == campaign_id, _d.status == status, _d.id <= upper
                    )
                )
                rows = int(deleted.rowcount or 0)
                await conn.execute(
                    campaigns.update()
                    .where(_c.id == campaign_id)
                    .values(
                        {
                            column: getattr(_c, column) + rows,
                            "folded_at": sa.func.coalesce(_c.folded_at, now),
                        }
                    )
                )
                return rows
        return 0


async def _batch_upper_id(
    conn: Connection, campaign_id: int, status: str, batch: int
) -> int | None:
    """The highest id among the campaign's first `batch` deliveries of `status` (by id, read
    in the order of the (campaign_id, status, id) index); None: there are none."""
    ids = (
        sa.select(_d.id)
        .where(_d.campaign_id == campaign_id, _d.status == status)
        .order_by(_d.id)
        .limit(batch)
        .subquery()
    )
    upper = (await conn.execute(sa.select(sa.func.max(ids.c.id)))).scalar_one_or_none()
    return int(upper) if upper is not None else None
