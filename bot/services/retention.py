"""Delivery retention: the outbox does not grow without end.

Once a day the timetable folds the deliveries of campaigns finished more than
DELIVERY_RETENTION_DAYS ago into their per-campaign counts (sent, failed, blocked) and deletes
the rows. Everything that reads a campaign's figures (/stats, status, reports) reads the folded
counts plus the rows still there, so the figures stay the same. What goes: who got which
message and its message id (so /edit can no longer change a folded post's messages). The
counts carry no chat ids: /forget has nothing more to erase there.

Idempotent and safe to interrupt: every batch is one transaction (storage/retention.py).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.storage.database import Database
from bot.storage.db import utcnow
from bot.storage.retention import RetentionRepository

log = logging.getLogger(__name__)

# Deliveries folded per transaction, and campaigns looked up per round.
FOLD_BATCH = 5000
CAMPAIGNS_PER_ROUND = 100


@dataclass(frozen=True, slots=True)
class RetentionResult:
    campaigns: int  # campaigns whose deliveries were folded (some or all) in this run
    rows: int  # delivery rows folded and deleted

    def outcome(self) -> str:
        return f"campaigns={self.campaigns} rows={self.rows}"


def folded_rows(outcome: str) -> int:
    """The rows a finished run folded, read back from its outcome line."""
    for word in outcome.split():
        key, _, value = word.partition("=")
        if key == "rows" and value.isdigit():
            return int(value)
    return 0


class RetentionService:
    def __init__(self, engine: Database, days: int, *, batch: int = FOLD_BATCH) -> None:
        self._repo = RetentionRepository(engine)
        self._days = days
        self._batch = batch

    @property
    def enabled(self) -> bool:
        return self._days > 0

    async def last_run(self) -> tuple[datetime, int] | None:
        """When the nightly job last finished and how many deliveries it folded."""
        found = await self._repo.last_run()
        return (found[0], folded_rows(found[1])) if found else None

    def cutoff(self, now: datetime) -> datetime:
        return now - timedelta(days=self._days)

    async def run(self, now: datetime | None = None) -> RetentionResult:
        """Fold every campaign that is old enough; 0 days keeps everything."""
        if not self.enabled:
            return RetentionResult(0, 0)
        now = now or utcnow()
        cutoff = self.cutoff(now)
        folded_campaigns = 0
        rows = 0
        while True:
            ids = await self._repo.foldable(cutoff, CAMPAIGNS_PER_ROUND)
            progressed = False
            for campaign_id in ids:
                folded = 0
                while n := await self._repo.fold_batch(campaign_id, self._batch, now):
                    folded += n
                if folded:
                    folded_campaigns += 1
                    rows += folded
                    progressed = True
            if len(ids) < CAMPAIGNS_PER_ROUND or not progressed:
                break
        if rows:
            log.info("retention: folded %s deliveries of %s campaigns", rows, folded_campaigns)
        return RetentionResult(folded_campaigns, rows)
