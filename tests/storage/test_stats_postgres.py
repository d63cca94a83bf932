"""/stats's aggregate queries and the export's stream on PostgreSQL: the week buckets (a CASE
over bound moments, in SELECT and GROUP BY) and the finished/unfinished split are portable."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.services import reports as service
from bot.storage.database import Database
from bot.storage.reports import ReportRepository
from bot.storage.schema import subscribers
from tests.storage.test_postgres_path import pg  # noqa: F401  (the fixture)

MOSCOW = ZoneInfo("Europe/Moscow")


async def test_stats_and_export_agree_on_postgres(pg: Database) -> None:  # noqa: F811
    now = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)  # a Wednesday
    async with pg.begin() as conn:
        for n, (days, role, finished) in enumerate(
            [(0, "teacher", True), (1, "head", True), (9, "teacher", True), (2, None, False),
             (100, "other", True)]
        ):  # fmt: skip
            at = now - timedelta(days=days)
            await conn.execute(
                subscribers.insert().values(
                    chat_id=700 + n, name=f"П{n}", topics="events", role=role,
                    created_at=at, updated_at=at, onboarded_at=at if finished else None,
                )
            )  # fmt: skip
    repo = ReportRepository(pg)
    stats = await service.gather(repo, MOSCOW, now)
    assert (stats.totals.total, stats.totals.unfinished) == (4, 1)
    assert stats.totals.by_role == {"teacher": 2, "head": 1, "other": 1}
    assert stats.new_by_week == {(7, "teacher"): 1, (7, "head"): 1, (6, "teacher"): 1}
    export = await service.subscribers_file(repo, MOSCOW, now, service.ExportFormat.XLSX)
    assert (export.rows, export.unfinished) == (5, 1)
