"""/stats and the exports with many subscribers: milliseconds, and how long the bot's event
loop stalls meanwhile.

    python -m bench.reports --subscribers 5000

A temporary SQLite database gets that many subscribers (roles, statuses, sign-ups spread over
twelve weeks, 3 % who never finished sign-up), ten campaigns that each reached all of them
(a delivery row per subscriber), a few events with «Напомнить» presses and votes on materials.
Then, each best of --runs:

- `stats_sql_ms`: the figures of /stats (`services.reports.gather`: a few GROUP BY queries,
  never a row per subscriber), and `summary_ms`, the caption composed from them;
- `chart_ms`: the picture drawn (matplotlib, in a thread), next to `chart_floor_ms`, an empty
  figure of the same size saved as PNG by the same library: what any picture costs;
- `xlsx_ms` / `csv_ms`: the subscribers' export, rows streamed from the database; the .xlsx next
  to `xlsx_floor_ms`, bare openpyxl in write-only mode writing the same rows already in memory;
- `stats_loop_stall_ms`, `xlsx_loop_stall_ms`: the longest gap of a 1 ms ticker on the event
  loop during /stats and during the .xlsx export (the CPU work runs in threads: other editors'
  and subscribers' updates go on meanwhile).

The last line is

    reports: subscribers=… stats_sql_ms=… summary_ms=… chart_ms=… chart_floor_ms=… xlsx_ms=…
             xlsx_floor_ms=… xlsx_ratio=… xlsx_kb=… csv_ms=… stats_loop_stall_ms=…
             xlsx_loop_stall_ms=… peak_rss_mb=…
"""

from __future__ import annotations

import argparse
import asyncio
import io
import random
import resource
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from bot.content.models import ItemKind, ItemStatus, Role, SubscriberStatus
from bot.services import charts
from bot.services import reports as service
from bot.storage.db import create_engine, migrate
from bot.storage.reports import ReportRepository
from bot.storage.schema import campaigns, deliveries, item_feedback, items, reminders, subscribers

TZ = ZoneInfo("Europe/Moscow")
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
CAMPAIGNS = 10
T = TypeVar("T")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


async def prepare(engine: Any, count: int, seed: int) -> None:
    rng = random.Random(seed)
    roles = [r.value for r in Role]
    statuses = [SubscriberStatus.ACTIVE.value] * 90 + [SubscriberStatus.PAUSED.value] * 5
    statuses += [SubscriberStatus.BLOCKED.value] * 5
    rows = []
    for n in range(count):
        created = NOW - timedelta(minutes=rng.randrange(12 * 7 * 24 * 60))
        finished = rng.random() >= 0.03
        rows.append(
            {
                "chat_id": 100_000 + n,
                "name": f"Подписчик {n}",
                "username": f"user{n}" if n % 3 else None,
                "role": rng.choice(roles) if finished else None,
                "org_kind": "school" if finished else None,
                "org_name": f"Школа № {n % 90 + 1}" if finished else None,
                "topics": "cases,events,materials",
                "frequency": "weekly",
                "status": rng.choice(statuses),
                "source": None,
                "created_at": created,
                "updated_at": created,
                "onboarded_at": created if finished else None,
            }
        )
    async with engine.begin() as conn:
        await conn.execute(subscribers.insert(), rows)
        event_ids = [
            (
                await conn.execute(
                    items.insert()
                    .values(
                        kind=ItemKind.EVENT.value, title=f"Семинар для координаторов {n}",
                        body="", status=ItemStatus.APPROVED.value,
                        starts_at=NOW + timedelta(days=3 + n), created_at=NOW, updated_at=NOW,
                    )
                    .returning(items.c.id)
                )
            ).scalar_one()
            for n in range(4)
        ]  # fmt: skip
        for n in range(CAMPAIGNS):
            campaign_id = (
                await conn.execute(
                    campaigns.insert()
                    .values(
                        key=f"bench:{n}", kind="digest" if n % 2 else "post",
                        title=f"Рассылка {n}", status="done", total=count,
                        created_at=NOW - timedelta(days=n * 3),
                    )
                    .returning(campaigns.c.id)
                )
            ).scalar_one()  # fmt: skip
            await conn.execute(
                deliveries.insert(),
                [
                    {
                        "campaign_id": campaign_id,
                        "chat_id": row["chat_id"],
                        "status": "sent" if rng.random() < 0.95 else "blocked",
                        "next_attempt_at": NOW,
                    }
                    for row in rows
                ],
            )
        await conn.execute(
            reminders.insert(),
            [
                {"item_id": event_ids[n % 4], "chat_id": row["chat_id"], "created_at": NOW}
                for n, row in enumerate(rows[: count // 5])
            ],
        )
        await conn.execute(
            item_feedback.insert(),
            [
                {
                    "item_id": event_ids[0],
                    "chat_id": row["chat_id"],
                    "useful": n % 4 != 0,
                    "created_at": NOW,
                }
                for n, row in enumerate(rows[: count // 10])
            ],
        )


async def best(runs: int, work: Callable[[], Awaitable[T]]) -> tuple[float, T]:
    """The fastest of `runs` (milliseconds) and the last result."""
    fastest = float("inf")
    result: Any = None
    for _ in range(runs):
        started = time.perf_counter()
        result = await work()
        fastest = min(fastest, (time.perf_counter() - started) * 1000)
    return fastest, result


class Ticker:
    """The longest gap between 1 ms sleeps on the loop: how long the loop was held."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        last = time.perf_counter()
        while True:
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            self.worst = max(self.worst, (now - last) * 1000 - 1)
            last = now

    async def __aenter__(self) -> Ticker:
        self._task = asyncio.create_task(self._run())
        await asyncio.sleep(0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()


def chart_floor() -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(
        figsize=(charts.WIDTH_PX / charts.DPI, charts.HEIGHT_PX / charts.DPI), dpi=charts.DPI
    )
    FigureCanvasAgg(figure)
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=charts.DPI)
    return out.getvalue()


def xlsx_floor(rows: list[list[object]]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Подписчики")
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


async def measure(path: Path, count: int, runs: int, seed: int) -> None:
    engine = create_engine(f"sqlite:///{path}")
    await migrate(engine)
    started = time.perf_counter()
    await prepare(engine, count, seed)
    print(f"prepared {count} subscribers in {time.perf_counter() - started:.1f} s")
    repo = ReportRepository(engine)
    await asyncio.to_thread(chart_floor)  # matplotlib's import and font cache, once

    stats_ms, stats = await best(runs, lambda: service.gather(repo, TZ, NOW))

    async def compose() -> object:
        return service.summary(stats, TZ)

    summary_ms, summary = await best(runs, compose)
    chart_ms, png = await best(runs, lambda: service.chart(stats, TZ))
    floor_ms, _ = await best(runs, lambda: asyncio.to_thread(chart_floor))
    xlsx_ms, xlsx = await best(
        runs, lambda: service.subscribers_file(repo, TZ, NOW, service.ExportFormat.XLSX)
    )
    csv_ms, csv = await best(
        runs, lambda: service.subscribers_file(repo, TZ, NOW, service.ExportFormat.CSV)
    )
    plain = [
        service._subscriber_row(s, TZ)  # the same rows, already read
        async for s in repo.stream_subscribers()
    ]
    xlsx_floor_ms, _ = await best(runs, lambda: asyncio.to_thread(xlsx_floor, plain))
    async with Ticker() as stats_ticker:
        gathered = await service.gather(repo, TZ, NOW)
        await service.chart(gathered, TZ)
    async with Ticker() as export_ticker:
        await service.subscribers_file(repo, TZ, NOW, service.ExportFormat.XLSX)
    async with engine.connect() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(subscribers))).scalar()
    await engine.dispose()
    caption_lines = len(summary.text.splitlines())  # type: ignore[attr-defined]
    print(
        f"stats: {stats.totals.total} subscribers, {stats.totals.unfinished} never finished "
        f"sign-up; caption {caption_lines} lines; picture {len(png) // 1024} KB"
    )
    print(
        f"exports: {xlsx.rows} rows; xlsx {len(xlsx.data) // 1024} KB, "
        f"csv {len(csv.data) // 1024} KB"
    )
    print(
        f"reports: subscribers={count} stats_sql_ms={stats_ms:.1f} summary_ms={summary_ms:.2f} "
        f"chart_ms={chart_ms:.0f} chart_floor_ms={floor_ms:.0f} xlsx_ms={xlsx_ms:.0f} "
        f"xlsx_floor_ms={xlsx_floor_ms:.0f} xlsx_ratio={xlsx_ms / xlsx_floor_ms:.2f} "
        f"xlsx_kb={len(xlsx.data) // 1024} csv_ms={csv_ms:.0f} "
        f"stats_loop_stall_ms={stats_ticker.worst:.1f} "
        f"xlsx_loop_stall_ms={export_ticker.worst:.1f} peak_rss_mb={peak_rss_mb():.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subscribers", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(measure(Path(folder) / "bench.db", args.subscribers, args.runs, args.seed))


if __name__ == "__main__":
    main()
