"""`python -m bot status` in its own process: a never-run bot, a running one, a stalled one.

It said «Всё в порядке» and exited 0 for a bot that had never run. Now: never run → 1 and
«бот ещё не запускался»; beside the running bot (emulator) → 0; a timetable heartbeat ten
minutes old or a feed failing again and again → 1 and what stalled; `--json` says the same.
"""

from __future__ import annotations

import asyncio
import json
import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.content.feeds import FeedKind
from bot.content.models import Audience, CampaignKind, MessagePart
from bot.storage.campaigns import SINGLE_VARIANT, CampaignRepository
from bot.storage.db import create_engine, migrate
from bot.storage.feeds import FeedRepository
from bot.storage.outbox import SEND_PAUSED
from bot.storage.subscribers import SubscriberRepository
from bot.storage.timetable import LAST_TICK_AT, RuntimeStatusRepository
from tests.e2e.test_cli import clean_env, run_bot, run_command
from tests.support.emulator import BotAPIEmulator
from tests.support.harness import TOKEN
from tests.support.subscribers import subscriber


async def test_a_bot_that_never_ran_is_no_all_clear(tmp_path: Path) -> None:
    env = clean_env(tmp_path)
    code, out, err = await run_command(tmp_path, env, "status")
    assert code == 1, err
    assert "бот ещё не запускался" in out
    assert "Всё в порядке" not in out
    code, out, err = await run_command(tmp_path, env, "status", "--json")
    assert code == 1, err
    data = json.loads(out)
    assert data["ok"] is False and data["ran"] is False
    assert [p["code"] for p in data["problems"]] == ["never_run"]
    assert "бот ещё не запускался" in data["problems"][0]["text"]
    assert data["last_tick_at"] is None and data["pending"] == 0


async def test_after_a_run_all_is_well_and_a_stalled_heartbeat_or_feed_is_named(
    tmp_path: Path,
) -> None:
    async with BotAPIEmulator() as emu:
        env = clean_env(tmp_path, BOT_TOKEN=TOKEN, TELEGRAM_API_BASE=emu.base_url)
        bot = await run_bot(tmp_path, env)
        try:
            await emu.wait_until_polling(timeout=30)
            # The sender's start is its first heartbeat; it may follow the first poll.
            for _ in range(100):
                code, out, err = await run_command(tmp_path, env, "status", "--json")
                if json.loads(out)["ran"]:
                    break
            assert code == 0, out + err
            data = json.loads(out)
            assert data["ok"] is True and data["problems"] == []
            code, out, err = await run_command(tmp_path, env, "status")
            assert code == 0, err
            assert out.strip().endswith("Всё в порядке.")
            assert "бот ещё не запускался" not in out
        finally:
            bot.send_signal(signal.SIGTERM)
            await asyncio.wait_for(bot.communicate(), 30)

    # The bot stopped ten minutes ago (its last timetable tick), and a site has been
    # failing on every fetch since.
    engine = create_engine(env["DATABASE_URL"])
    try:
        then = datetime.now(UTC) - timedelta(minutes=10, seconds=5)
        await RuntimeStatusRepository(engine).put(LAST_TICK_AT, then.isoformat(), then)
        feeds = FeedRepository(engine)
        feed = await feeds.add("https://imc.example/rss", FeedKind.NEWS)
        assert feed is not None
        for _ in range(3):
            await feeds.record_error(
                feed.id, "HTTP 503", now=then, base=timedelta(minutes=5), cap=timedelta(hours=6)
            )
    finally:
        await engine.dispose()
    code, out, err = await run_command(tmp_path, env, "status")
    assert code == 1, err
    assert "⚠ Расписание не отмечалось 10 мин: бот, похоже, не запущен." in out
    assert (
        "⚠ Лента https://imc.example/rss не загружается: 3 раза подряд, "
        "последняя ошибка: HTTP 503" in out
    )
    assert "Всё в порядке" not in out
    code, out, err = await run_command(tmp_path, env, "status", "--json")
    assert code == 1, err
    data = json.loads(out)
    assert data["ok"] is False and data["ran"] is True
    assert [p["code"] for p in data["problems"]] == ["tick_stale", "feed_failing"]
    assert datetime.fromisoformat(data["last_tick_at"]) == then
    assert data["failing_feeds"] == [
        {"id": feed.id, "url": "https://imc.example/rss", "errors": 3,
         "last_error": "HTTP 503", "last_fetch_at": then.isoformat()}
    ]  # fmt: skip


async def test_sending_paused_by_telegram_and_a_nearly_full_disk_have_their_own_codes(
    tmp_path: Path,
) -> None:
    """Telegram told the sender to wait 15 minutes (429 retry_after, as the sender records it)
    and a message still waits: «paused by Telegram», not «all is well» nor «stalled»."""
    env = clean_env(tmp_path)
    engine = create_engine(env["DATABASE_URL"])
    now = datetime.now(UTC)
    told = now - timedelta(minutes=2)
    until = told + timedelta(minutes=15)
    try:
        await migrate(engine)
        beats = RuntimeStatusRepository(engine)
        await beats.put(LAST_TICK_AT, now.isoformat(), now)  # the bot runs
        await subscriber(SubscriberRepository(engine), 301)
        created = await CampaignRepository(engine).create(
            "post:1", CampaignKind.POST, "Семинар", {SINGLE_VARIANT: [MessagePart("Семинар")]},
            Audience(chat_ids=(301,)),
        )  # fmt: skip
        assert created is not None
        await beats.put(SEND_PAUSED, f"{told.isoformat()} {until.isoformat()}", told)
    finally:
        await engine.dispose()
    code, out, err = await run_command(tmp_path, env, "status")
    assert code == 1, err
    tz = ZoneInfo("Europe/Moscow")
    assert (
        f"⚠ Telegram приостановил рассылку: с {told.astimezone(tz):%H:%M} просит подождать, "
        f"до {until.astimezone(tz):%H:%M} (15 мин); ждут отправки 1 сообщение." in out
    )
    code, out, err = await run_command(tmp_path, env, "status", "--json")
    assert code == 1, err
    data = json.loads(out)
    assert [p["code"] for p in data["problems"]] == ["send_paused"]
    assert datetime.fromisoformat(data["send_paused_until"]) == until
    # The disk "nearly full" by its setting: less free than a petabyte.
    env["ALERT_DISK_FREE_MB"] = str(10**9)
    code, out, err = await run_command(tmp_path, env, "status", "--json")
    assert code == 1, err
    data = json.loads(out)
    assert [p["code"] for p in data["problems"]] == ["send_paused", "db_nearly_full"]
    assert data["disk_free_mb"] < 10**9
