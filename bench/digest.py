"""Composing the weekly digest for many subscribers: CPU seconds and peak memory.

    python -m bench.digest --subscribers 100000

A temporary SQLite database gets that many subscribers (a realistic spread of roles,
organisation kinds, topics, frequencies and statuses) and a few dozen items, built in a child
process so its memory stays out of the figures. Then this process runs `create_digest` once:
the distinct signatures, their rendering and the fan-out INSERT…SELECT. The last line printed is

    digest: subscribers=… variants=… recipients=… cpu_s=… peak_rss_mb=…
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

from bot.content.digest import weekly_period
from bot.content.models import (
    Frequency,
    Item,
    ItemKind,
    ItemStatus,
    OrgKind,
    Role,
    SubscriberStatus,
    Topic,
)
from bot.services.digests import create_digest
from bot.storage.campaigns import CampaignRepository
from bot.storage.db import create_engine, migrate
from bot.storage.items import ItemRepository, item_values

REPO = Path(__file__).resolve().parents[1]  # the child process runs from here, as `-m`
TZ = ZoneInfo("Europe/Moscow")
RUN = datetime(2026, 11, 30, 9, 0, tzinfo=TZ)  # a Monday: the weekly digest's slot
SLOT = "digest:weekly:2026-W49"

ROLES = [
    (Role.TEACHER, 45), (Role.PRESCHOOL, 20), (Role.COORDINATOR, 10),
    (Role.HEAD, 8), (Role.METHODIST, 7), (Role.OTHER, 10),
]  # fmt: skip
ORGS_FOR_SCHOOL_STAFF = [(OrgKind.SCHOOL, 80), (OrgKind.EXTRA, 12), (OrgKind.OTHER, 8)]
ORGS_FOR_PRESCHOOL = [(OrgKind.KINDERGARTEN, 95), (OrgKind.OTHER, 5)]
ORGS_FOR_OTHERS = [
    (OrgKind.SCHOOL, 50), (OrgKind.KINDERGARTEN, 30), (OrgKind.EXTRA, 12), (OrgKind.OTHER, 8),
]  # fmt: skip
FREQUENCIES = [(Frequency.WEEKLY, 70), (Frequency.DAILY, 20), (Frequency.OFF, 10)]
STATUSES = [
    (SubscriberStatus.ACTIVE, 90), (SubscriberStatus.PAUSED, 6), (SubscriberStatus.BLOCKED, 4),
]  # fmt: skip
ALL_CODES = ",".join(sorted(t.value for t in Topic))


T = TypeVar("T")


def pick(rng: random.Random, weighted: Sequence[tuple[T, int]]) -> T:
    values = [value for value, _ in weighted]
    return rng.choices(values, [weight for _, weight in weighted])[0]


def sql_time(moment: datetime | None) -> str | None:
    """A UTC timestamp the way SQLAlchemy stores it in SQLite (compared as text)."""
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def subscriber_rows(count: int, seed: int) -> Iterator[tuple[object, ...]]:
    rng = random.Random(seed)
    now = sql_time(datetime(2026, 9, 1, tzinfo=UTC))
    for n in range(count):
        role = pick(rng, ROLES)
        if role is Role.PRESCHOOL:
            org = pick(rng, ORGS_FOR_PRESCHOOL)
        elif role in (Role.TEACHER, Role.COORDINATOR):
            org = pick(rng, ORGS_FOR_SCHOOL_STAFF)
        else:
            org = pick(rng, ORGS_FOR_OTHERS)
        if rng.random() < 0.6:  # most keep the default: everything
            topics = ALL_CODES
        else:
            chosen = [t.value for t in Topic if rng.random() < 0.5] or [Topic.EVENTS.value]
            topics = ",".join(sorted(chosen))
        onboarded = now if rng.random() < 0.95 else None
        yield (
            1_000_000 + n, f"Педагог {n}", None, str(role), str(org), f"ОУ № {n % 700}",
            topics, str(pick(rng, FREQUENCIES)), str(pick(rng, STATUSES)), None,
            now, now, onboarded,
        )  # fmt: skip


def bench_items(rng: random.Random) -> Iterator[Item]:
    week = weekly_period(RUN)
    everyone: frozenset[Role] = frozenset()
    audiences = [
        (everyone, frozenset()),
        (frozenset({Role.HEAD, Role.COORDINATOR}), frozenset()),
        (everyone, frozenset({OrgKind.KINDERGARTEN})),
        (frozenset({Role.TEACHER, Role.METHODIST}), frozenset({OrgKind.SCHOOL})),
    ]
    body = "Методические рекомендации по сопровождению инновационной деятельности. " * 4

    def approved_in_week() -> datetime:
        return week.start + timedelta(hours=rng.uniform(0, 7 * 24 - 1))

    for n in range(24):
        roles, orgs = rng.choice(audiences)
        yield Item(
            0, ItemKind.MATERIAL, f"Методический материал № {n + 1}", body=body,
            url=f"https://imc.example/materials/{n}", status=ItemStatus.APPROVED,
            approved_at=approved_in_week(), audience_roles=roles, audience_orgs=orgs,
        )  # fmt: skip
    for n in range(16):  # the last few start beyond the two weeks ahead
        roles, orgs = rng.choice(audiences)
        yield Item(
            0, ItemKind.EVENT, f"Семинар для координаторов инновационной работы № {n + 1}",
            url=f"https://imc.example/events/{n}", status=ItemStatus.APPROVED,
            starts_at=RUN + timedelta(days=n + 0.5), place="ИМЦ, ул. Школьная, 1, ауд. 12",
            registration_url=f"https://imc.example/events/{n}/register",
            audience_roles=roles, audience_orgs=orgs, approved_at=approved_in_week(),
        )  # fmt: skip
    for n in range(5):
        roles, orgs = rng.choice(audiences)
        yield Item(
            0, ItemKind.CASE, f"Опыт площадки № {n + 1}: проектная неделя", body=body * 2,
            organisation=f"ГБОУ СОШ № {100 + n}", status=ItemStatus.APPROVED,
            approved_at=approved_in_week(), audience_roles=roles, audience_orgs=orgs,
        )  # fmt: skip
    for n in range(6):  # never in a digest: announcements, drafts, last month's
        yield Item(0, ItemKind.ANNOUNCEMENT, f"Объявление {n}", status=ItemStatus.APPROVED,
                   approved_at=approved_in_week())  # fmt: skip
        yield Item(0, ItemKind.MATERIAL, f"Черновик {n}", status=ItemStatus.PENDING)
        yield Item(0, ItemKind.MATERIAL, f"Старый материал {n}", status=ItemStatus.APPROVED,
                   approved_at=week.start - timedelta(days=20 + n))  # fmt: skip


def prepare(path: Path, subscribers: int, seed: int) -> None:
    """Build the database (run in a child process)."""

    async def schema() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        await migrate(engine)
        await engine.dispose()

    asyncio.run(schema())
    now = datetime.now(UTC)
    with closing(sqlite3.connect(path)) as db, db:
        rows = subscriber_rows(subscribers, seed)
        db.executemany(
            "INSERT INTO subscribers (chat_id, name, username, role, org_kind, org_name, topics,"
            " frequency, status, source, created_at, updated_at, onboarded_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        for item in bench_items(random.Random(seed)):
            values = item_values(item, now)
            columns = ", ".join(values)
            marks = ", ".join("?" for _ in values)
            db.execute(
                f"INSERT INTO items ({columns}) VALUES ({marks})",
                [sql_time(v) if isinstance(v, datetime) else v for v in values.values()],
            )


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


async def measure(path: Path, subscribers: int) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    items = ItemRepository(engine)
    campaigns = CampaignRepository(engine)
    async with engine.connect() as conn:  # open the pool before measuring
        await conn.exec_driver_sql("SELECT 1")
    baseline = peak_rss_mb()
    period = weekly_period(RUN)
    wall = time.perf_counter()
    cpu = time.process_time()
    result = await create_digest(
        Frequency.WEEKLY, SLOT, period.start, period.end, RUN,
        items=items, subscribers=items, campaigns=campaigns,
    )  # fmt: skip
    cpu_s = time.process_time() - cpu
    wall_s = time.perf_counter() - wall
    peak = peak_rss_mb()
    await engine.dispose()
    print(f"baseline_rss_mb={baseline:.1f} (imports and engine, before composing)")
    print(f"composing_rss_mb={peak - baseline:.1f} (peak growth while composing)")
    print(f"wall_s={wall_s:.2f}")
    print(
        f"digest: subscribers={subscribers} variants={result.variants} "
        f"recipients={result.recipients} cpu_s={cpu_s:.2f} peak_rss_mb={peak:.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--prepare", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.prepare is not None:
        prepare(args.prepare, args.subscribers, args.seed)
        return
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.db"
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "bench.digest", "--prepare", str(path),
             "--subscribers", str(args.subscribers), "--seed", str(args.seed)],
            check=True, cwd=REPO,
        )  # fmt: skip
        print(f"prepared {args.subscribers} subscribers in {time.perf_counter() - started:.1f} s")
        asyncio.run(measure(path, args.subscribers))


if __name__ == "__main__":
    main()
