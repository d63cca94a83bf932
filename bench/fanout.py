"""Fan-out and claims at city scale on PostgreSQL: `python bench/fanout.py --subscribers 200000
[--rows 10000000] [--pages 500]`.

In a scratch schema of the PostgreSQL at BENCH_POSTGRES_URL (default below), made by the
migrations and dropped afterwards:

1. `--subscribers` onboarded subscribers, and the outbox pre-filled with `--rows` delivered
   rows of earlier campaigns (finished ones, as a year of posts leaves them), in bulk with
   INSERT … SELECT generate_series (the server makes the rows: 10 million take minutes);
2. fan-out: `CampaignRepository.create` of one post to everyone (one INSERT … SELECT in the
   campaign's transaction), timed: `fanout_s`;
3. claims: the sender's `OutboxRepository.claim_due` walking that campaign a page
   (`--page`, the engine's BATCH_SIZE) at a time, `--pages` pages, each timed:
   `claim_p50_ms`, `claim_p99_ms`, `claim_max_ms`;
4. retention: one of the earlier campaigns made 100 days old and folded by
   `RetentionService` (its rows counted into the campaign and deleted, 5000 a transaction):
   `fold_s` and `fold_rows`.

The issue's acceptance: fan-out ≤ 10 s and claim p99 ≤ 20 ms with 10 million rows in the
table. Run time is bounded by `--rows` (the pre-fill dominates) and `--pages`.
Last line: `fanout: subscribers=… rows=… fanout_s=… claim_p50_ms=… claim_p99_ms=… …`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.storage import in_schema
from bot.content.models import Audience, CampaignKind, MessagePart, Topic
from bot.delivery.work import BATCH_SIZE
from bot.services.retention import RetentionService
from bot.storage.campaigns import SINGLE_VARIANT, CampaignRepository
from bot.storage.db import create_engine, migrate
from bot.storage.outbox import OutboxRepository
from bot.storage.subscribers import encode_topics

POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
FIRST_CHAT = 1_000_000
POST = {SINGLE_VARIANT: [MessagePart("Семинар для координаторов: ауд. 14, 15:00")]}


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def seed_subscribers(db: AsyncEngine, n: int) -> None:
    async with db.begin() as conn:
        await conn.execute(
            sa.text(
                "INSERT INTO subscribers (chat_id, name, role, org_kind, org_name, topics, "
                "frequency, status, created_at, updated_at, onboarded_at) "
                "SELECT :first + g, 'Учитель ' || g, 'teacher', 'school', "
                "'Школа № ' || (g % 40 + 1), :topics, 'weekly', 'active', now(), now(), now() "
                "FROM generate_series(0, :n - 1) AS g"
            ),
            {"first": FIRST_CHAT, "topics": encode_topics(Topic), "n": n},
        )


async def prefill(db: AsyncEngine, rows: int, per_campaign: int) -> list[int]:
    """`rows` delivered rows of finished campaigns, `per_campaign` each; their ids."""
    ids: list[int] = []
    left = rows
    started = time.perf_counter()
    while left > 0:
        size = min(per_campaign, left)
        async with db.begin() as conn:
            campaign_id = (
                await conn.execute(
                    sa.text(
                        "INSERT INTO campaigns (key, kind, title, status, total, created_at, "
                        "started_at, finished_at) VALUES (:key, 'post', :title, 'done', :n, "
                        "now(), now(), now()) RETURNING id"
                    ),
                    {"key": f"filler:{len(ids)}", "title": f"Пост {len(ids)}", "n": size},
                )
            ).scalar_one()
            await conn.execute(
                sa.text(
                    "INSERT INTO deliveries (campaign_id, chat_id, status, attempts, parts_sent,"
                    " next_attempt_at, message_id, sent_at) SELECT :c, :first + g, "
                    "CASE WHEN g % 50 = 0 THEN 'blocked' ELSE 'sent' END, 1, 1, now(), "
                    "(g + 1)::text, now() FROM generate_series(0, :n - 1) AS g"
                ),
                {"c": campaign_id, "first": FIRST_CHAT, "n": size},
            )
        ids.append(campaign_id)
        left -= size
        log(f"pre-fill: {rows - left:,} of {rows:,} rows ({time.perf_counter() - started:.0f} s)")
    return ids


async def explain(
    db: AsyncEngine, outbox: OutboxRepository, campaign_id: int, now: datetime, page: int
) -> None:
    """The claim's plan as the server runs it (EXPLAIN ANALYZE), to stderr."""
    captured: list[tuple[str, object]] = []

    def capture(conn: object, cursor: object, statement: str, params: object, *_: object) -> None:
        if "FROM deliveries" in statement and "LIMIT" in statement:
            captured.append((statement, params))

    sa.event.listen(db.sync_engine, "before_cursor_execute", capture)
    await outbox.claim_due(campaign_id, now, limit=page)
    sa.event.remove(db.sync_engine, "before_cursor_execute", capture)
    statement, params = captured[0]
    async with db.connect() as conn:
        raw = await conn.get_raw_connection()
        driver = raw.driver_connection
        assert driver is not None
        plan = await driver.fetch("EXPLAIN (ANALYZE, BUFFERS) " + statement, *params)  # type: ignore[misc]
    log("\n".join(row[0] for row in plan))


async def run(args: argparse.Namespace) -> dict[str, object]:
    raw_url = os.environ.get("BENCH_POSTGRES_URL", POSTGRES_URL)
    admin = create_engine(raw_url)
    assert isinstance(admin, AsyncEngine)
    schema = f"bench_fanout_{uuid.uuid4().hex[:12]}"
    async with admin.begin() as conn:
        await conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    db = create_engine(raw_url)
    assert isinstance(db, AsyncEngine)
    in_schema(db, schema)
    try:
        await migrate(db)
        await seed_subscribers(db, args.subscribers)
        fillers = await prefill(db, args.rows, args.subscribers) if args.rows else []
        async with db.begin() as conn:
            await conn.execute(sa.text("ANALYZE"))
        log("fan-out…")
        campaigns = CampaignRepository(db)
        started = time.perf_counter()
        campaign = await campaigns.create("bench:post", CampaignKind.POST, "Семинар", POST,
                                          Audience())  # fmt: skip
        fanout_s = time.perf_counter() - started
        assert campaign is not None and campaign.total == args.subscribers
        async with db.connect() as conn:
            in_table = (await conn.execute(sa.text("SELECT count(*) FROM deliveries"))).scalar()
        outbox = OutboxRepository(db)
        now = datetime.now(UTC)
        timings: list[float] = []
        after = 0
        for _ in range(args.pages):
            started = time.perf_counter()
            page = await outbox.claim_due(campaign.id, now, after_id=after, limit=args.page)
            timings.append((time.perf_counter() - started) * 1000)
            if not page:
                break
            after = page[-1].id
        if args.explain:
            await explain(db, outbox, campaign.id, now, args.page)
        figures: dict[str, object] = {
            "subscribers": args.subscribers,
            "rows": in_table,
            "fanout_s": round(fanout_s, 2),
            "claim_pages": len(timings),
            "claim_p50_ms": round(statistics.median(timings), 2),
            "claim_p99_ms": round(percentile(timings, 99), 2),
            "claim_max_ms": round(max(timings), 2),
        }
        if fillers:
            long_ago = datetime.now(UTC) - timedelta(days=100)
            async with db.begin() as conn:
                await conn.execute(
                    sa.text("UPDATE campaigns SET finished_at = :at WHERE id = :id"),
                    {"at": long_ago, "id": fillers[0]},
                )
            log("retention…")
            started = time.perf_counter()
            folded = await RetentionService(db, 90).run()
            figures["fold_s"] = round(time.perf_counter() - started, 2)
            figures["fold_rows"] = folded.rows
        return figures
    finally:
        await db.dispose()
        async with admin.begin() as conn:
            await conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=200_000)
    parser.add_argument("--rows", type=int, default=0, help="outbox rows to pre-fill")
    parser.add_argument("--pages", type=int, default=500, help="claims to time")
    parser.add_argument("--page", type=int, default=BATCH_SIZE, help="rows per claim")
    parser.add_argument("--explain", action="store_true", help="the claim's plan, to stderr")
    args = parser.parse_args()
    figures = asyncio.run(run(args))
    print("fanout: " + " ".join(f"{key}={value}" for key, value in figures.items()))


if __name__ == "__main__":
    main()
