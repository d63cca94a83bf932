"""Two `python -m bot worker` processes on one PostgreSQL database, the active one killed while
a digest is going out: the timetable's slot gives one campaign, every subscriber gets the
digest (a few copies at most: the ones on the wire when the worker died), and the standby
takes over within 20 seconds."""

from __future__ import annotations

import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from bot.content.models import DeliveryStatus, Frequency, Item, ItemKind, ItemStatus
from bot.services.timetable import daily_slot
from bot.storage.db import create_engine, migrate
from bot.storage.items import ItemRepository
from bot.storage.schema import campaigns, deliveries, subscribers
from tests.support.databases import on_postgres, scratch_url
from tests.support.emulator import BotAPIEmulator, Call
from tests.support.subscribers import onboarded_row
from tests.support.waiting import until
from tests.support.workers import workers_running

pytestmark = pytest.mark.skipif(
    not on_postgres(),
    reason="two workers share a database on PostgreSQL only (SQLite has one sender, by its "
    "lock file): run under `make test-pg`, TEST_DATABASE_URL=postgresql+asyncpg://…",
)

MSK = ZoneInfo("Europe/Moscow")
SUBSCRIBERS = [7100 + n for n in range(24)]
SEND_RATE = 2  # a second: the digest goes out over ~12 s, the kill lands in the middle
WARM = 3.0  # seconds both workers run before the kill
DIGEST = "Дайджест «Инфозоны»"


def is_digest(call: Call) -> bool:
    return (
        call.method == "sendMessage"
        and call.ok
        and call.chat_id in SUBSCRIBERS
        and str(call.params.get("text", "")).startswith(DIGEST)
    )


async def test_a_killed_worker_hands_the_digest_to_the_standby_once(
    emu: BotAPIEmulator, tmp_path: Path
) -> None:
    url = scratch_url(tmp_path, "failover")
    engine = create_engine(url)
    await migrate(engine)
    now = datetime.now(MSK)
    # The daily digest's cron fired two minutes ago: each worker's timetable catches it up
    # as it starts (within its grace); the other jobs' times are half a day away.
    fire = (now - timedelta(minutes=2)).replace(second=0, microsecond=0)
    far = fire + timedelta(hours=12)
    slot = daily_slot(fire)
    async with engine.begin() as conn:
        await conn.execute(
            subscribers.insert(),
            [onboarded_row(chat, f"Педагог {chat}", now, frequency=Frequency.DAILY.value)
             for chat in SUBSCRIBERS],
        )  # fmt: skip
    items = ItemRepository(engine)
    await items.add(
        Item(0, ItemKind.MATERIAL, "Методические рекомендации по проектной неделе",
             status=ItemStatus.APPROVED, approved_at=now - timedelta(hours=1))
    )  # fmt: skip
    await items.add(
        Item(0, ItemKind.EVENT, "Семинар для координаторов", status=ItemStatus.APPROVED,
             approved_at=now - timedelta(hours=1), place="ИМЦ, ауд. 12",
             starts_at=(now + timedelta(days=3)).replace(hour=10, minute=0, second=0))
    )  # fmt: skip
    for chat in SUBSCRIBERS:
        emu.user(chat)
    emu.set_flood_control(global_per_sec=30, per_chat_per_sec=1)
    settings = {
        "SEND_RATE": str(SEND_RATE),
        "TIMEZONE": "Europe/Moscow",
        "DIGEST_DAILY_CRON": f"{fire.minute} {fire.hour} * * *",
        "DIGEST_WEEKLY_CRON": f"{far.minute} {far.hour} * * *",
        "REMINDERS_CRON": f"{far.minute} {far.hour} * * *",
        "DELIVERY_RETENTION_DAYS": "0",
    }
    try:
        async with workers_running(emu.base_url, url, tmp_path, **settings) as workers:
            first = await workers.start()
            await emu.wait_for(
                lambda c: c.method == "getMe" and c.token == first.token, timeout=30, after=0
            )
            second = await workers.start()

            # The kill once half the subscribers have the digest and the second worker has been
            # up for a while (it asked Telegram who it is WARM s before): a hot standby, not one
            # still starting, so that it could send what the active one holds.
            reached: set[int] = set()
            up_at: list[float] = []

            def half_reached(call: Call) -> bool:
                if call.method == "getMe" and call.token == second.token and not up_at:
                    up_at.append(call.at)
                if is_digest(call):
                    reached.add(call.chat_id or 0)
                warm = bool(up_at) and call.at - up_at[0] >= WARM
                return len(reached) >= len(SUBSCRIBERS) // 2 and warm

            await emu.wait_for(half_reached, timeout=30, after=0)
            assert len(reached) < len(SUBSCRIBERS), "the digest was out before the kill"
            # The active one: the sender runtime_status names, else the one that sent most.
            sent = Counter(c.token for c in emu.calls if is_digest(c))
            active = await workers.owner(engine) or workers.by_token(sent.most_common(1)[0][0])
            assert active is not None
            active.kill()
            killed_at = time.monotonic()  # the emulator's clock
            await active.process.wait()
            standby = next(w for w in workers.started if w is not active)

            got: set[int] = set()

            def everyone(call: Call) -> bool:
                if is_digest(call):
                    got.add(call.chat_id or 0)
                return got >= set(SUBSCRIBERS)

            await emu.wait_for(everyone, timeout=30, after=0)

            async def all_recorded() -> bool:
                async with engine.connect() as conn:
                    left = await conn.execute(
                        sa.select(sa.func.count())
                        .select_from(deliveries)
                        .where(deliveries.c.status == DeliveryStatus.PENDING.value)
                    )
                    return left.scalar_one() == 0

            await until(all_recorded, 20, "the standby records every delivery")
            await workers.stop()
            assert standby.process.returncode == 0, standby.log_text()[-3000:]

        async with engine.connect() as conn:
            keys = (await conn.execute(sa.select(campaigns.c.key, campaigns.c.total))).all()
    finally:
        await engine.dispose()

    # One campaign for the slot, to every subscriber.
    assert keys == [(slot, len(SUBSCRIBERS))]
    digests = [c for c in emu.calls if is_digest(c)]
    copies = {chat: sum(1 for c in digests if c.chat_id == chat) for chat in SUBSCRIBERS}
    assert [chat for chat, n in copies.items() if n == 0] == [], copies
    assert sum(copies.values()) - len(SUBSCRIBERS) <= 5, copies
    # The standby sent nothing while the active worker ran, and took over within 20 s.
    assert [c.chat_id for c in digests if c.token == standby.token and c.at < killed_at] == []
    taken_over = [c.at for c in digests if c.token == standby.token and c.at > killed_at]
    assert taken_over, "the standby sent nothing after the kill"
    assert taken_over[0] - killed_at <= 20
