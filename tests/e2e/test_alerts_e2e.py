"""The owners (ADMIN_IDS) hear of it in Telegram when something breaks, and when it works again.

Nobody was told: when sending stalled, a feed failed for days or the nightly backup failed, the
owners learnt it from teachers. Now each problem is provoked for real — the emulator answers
errors or 429s, a site on loopback fails, the backup folder can't be made, the disk is "nearly
full" by its setting, the database refuses writes — and the timetable's production heartbeat
job is run at the moment the owner would be told (minutes or a day into the incident, by its
clock). Each time: one Russian alert to the owner, none at a second check within the hour, and
«снова работает» once it clears. A rejected token can't be told through Telegram: the log only.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.content.feeds import FeedKind
from bot.content.models import Audience, CampaignKind, MessagePart
from bot.services.status import status_report
from bot.services.timetable import Timetable
from bot.storage.backup import BackupCopyError
from bot.storage.campaigns import SINGLE_VARIANT, CampaignRepository
from bot.storage.feeds import FeedRepository
from bot.storage.outbox import SEND_PAUSED, OutboxRepository
from bot.storage.timetable import BACKUP_FAILED, FEED_FAILING_SINCE, RuntimeStatusRepository
from tests.e2e.test_cli import clean_env, run_command
from tests.support.databases import sqlite_url
from tests.support.emulator import BotAPIEmulator, Call
from tests.support.harness import EDITOR_ID, TOKEN, RunningBot, bot_running
from tests.support.subscribers import subscriber

OWNER = EDITOR_ID  # the harness's ADMIN_IDS


def heartbeat_job(bot: RunningBot, at: datetime) -> Timetable:
    """The production heartbeat job of this bot (its alerts included), its clock reading `at`."""
    beat = bot.dp["poll_heartbeat"]
    return Timetable(
        bot.settings, bot.services, poll_feeds=False, clock=lambda: at,
        last_poll=lambda: beat.last_poll_at, poll_conflict=lambda: beat.conflict_since,
        token_rejected=lambda: beat.rejected_since, alerts=bot.dp["alerts"],
    )  # fmt: skip


async def tick(bot: RunningBot, at: datetime) -> None:
    await heartbeat_job(bot, at).heartbeat(at)


def alerts(emu: BotAPIEmulator) -> list[str]:
    """What the owner got from the bot: alerts and «снова работает»."""
    return [m["text"] for m in emu.messages(OWNER) if m.get("text", "")[:1] in ("🚨", "✅")]


async def codes(bot: RunningBot, at: datetime) -> list[str]:
    return [p.code for p in (await status_report(bot.settings, bot.engine, at)).found]


async def campaign_to(bot: RunningBot, chat_id: int, key: str) -> int:
    bot.emu.user(chat_id, first_name="Ольга")
    await subscriber(bot.subscribers, chat_id)
    created = await CampaignRepository(bot.engine).create(
        key, CampaignKind.POST, "Семинар координаторов",
        {SINGLE_VARIANT: [MessagePart("Семинар координаторов в четверг")]},
        Audience(chat_ids=(chat_id,)),
    )  # fmt: skip
    assert created is not None
    bot.services.wake()
    return created.id


async def settled(bot: RunningBot, campaign_id: int) -> None:
    """Wait until nothing of the campaign is pending (its results recorded)."""
    for _ in range(400):
        if not (await CampaignRepository(bot.engine).counts(campaign_id)).pending:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"campaign {campaign_id} still has pending deliveries")


def answered(method: str, chat_id: int, *, code: int | None = None) -> Any:
    def predicate(call: Call) -> bool:
        if call.method != method or call.chat_id != chat_id:
            return False
        return call.ok if code is None else call.response.get("error_code") == code

    return predicate


async def test_sending_stalled_is_alerted_once_an_hour_and_cleared(
    emu: BotAPIEmulator, tmp_path: Path
) -> None:
    async with bot_running(emu, tmp_path) as bot:
        bot.person(OWNER, "Ирина")  # the owner has a chat with the bot
        await settled(bot, await campaign_to(bot, 5101, "post:first"))
        # Telegram stops answering the next campaign's messages (502 on every try).
        emu.fail_next("sendMessage", status=502, chat_id=5102, times=10**6)
        campaign = await campaign_to(bot, 5102, "post:second")
        await emu.wait_for(answered("sendMessage", 5102, code=502), after=0)
        t0 = datetime.now(UTC)
        await tick(bot, t0 + timedelta(minutes=1))
        assert alerts(emu) == []  # a minute without a send is not yet a stall
        await tick(bot, t0 + timedelta(minutes=7))
        [alert] = alerts(emu)
        assert alert.startswith("🚨 «Инфозона»: рассылка стоит")
        assert "Сообщения ждут отправки, а последняя отправка была 7 мин назад" in alert
        assert "проверьте журнал бота" in alert
        assert TOKEN not in alert
        await tick(bot, t0 + timedelta(minutes=40))
        assert len(alerts(emu)) == 1  # the same problem within the hour: nothing new
        emu.clear_failures()  # Telegram answers again; the sender's retry gets through
        await settled(bot, campaign)
        await tick(bot, t0 + timedelta(minutes=41))
        assert alerts(emu)[1:] == ["✅ «Инфозона»: снова работает — рассылка идёт."]
        await tick(bot, t0 + timedelta(minutes=42))
        assert len(alerts(emu)) == 2


async def test_a_first_campaign_that_never_got_out_is_a_stall_too(
    emu: BotAPIEmulator, tmp_path: Path
) -> None:
    """No message has ever gone out (a fresh install), so there is no last send to count
    from: the waiting campaign's age is."""
    async with bot_running(emu, tmp_path) as bot:
        bot.person(OWNER, "Ирина")
        emu.fail_next("sendMessage", status=502, chat_id=5151, times=10**6)
        await campaign_to(bot, 5151, "post:first")
        await emu.wait_for(answered("sendMessage", 5151, code=502), after=0)
        t0 = datetime.now(UTC)
        await tick(bot, t0 + timedelta(minutes=4))
        assert alerts(emu) == []
        await tick(bot, t0 + timedelta(minutes=6))
        [alert] = alerts(emu)
        assert alert.startswith("🚨 «Инфозона»: рассылка стоит")
        assert "Сообщения ждут отправки уже 6 мин, а не ушло ещё ни одного" in alert


async def test_a_long_flood_wait_is_its_own_status_and_alert_and_clears_after_a_restart(
    emu: BotAPIEmulator, tmp_path: Path
) -> None:
    async with bot_running(emu, tmp_path) as bot:
        bot.person(OWNER, "Ирина")  # the owner has a chat with the bot
        emu.fail_next("sendMessage", status=429, retry_after=600, chat_id=5201)
        await campaign_to(bot, 5201, "post:flood")
        told = await emu.wait_for(answered("sendMessage", 5201, code=429), after=0)
        outbox = OutboxRepository(bot.engine)
        for _ in range(200):  # the sender records Telegram's wait as it gets it
            if (found := await outbox.status_value(SEND_PAUSED)) and found[0]:
                break
            await asyncio.sleep(0.02)
        t0 = datetime.now(UTC)
        assert "send_paused" in await codes(bot, t0)
        # Paused by Telegram, not stalled: the one problem, not both.
        assert "send_stalled" not in await codes(bot, t0 + timedelta(minutes=6))
        await tick(bot, t0 + timedelta(minutes=1))
        [alert] = alerts(emu)
        assert alert.startswith("🚨 «Инфозона»: Telegram приостановил рассылку")
        assert "просит подождать" in alert and "(10 мин)" in alert
        assert "ждут отправки 1 сообщение" in alert and "уменьшите SEND_RATE" in alert
        await tick(bot, t0 + timedelta(minutes=2))
        assert len(alerts(emu)) == 1
        # A restart: the new sender has no wait in memory; what it remembered was alerted
        # stays remembered (no second alert), and its first message out ends the pause.
        await bot.restart()
        await emu.wait_for(answered("sendMessage", 5201), after=emu.calls.index(told) + 1)
        for _ in range(200):
            if (found := await outbox.status_value(SEND_PAUSED)) and not found[0]:
                break
            await asyncio.sleep(0.02)
        await tick(bot, t0 + timedelta(minutes=3))
        assert alerts(emu)[1:] == [
            "✅ «Инфозона»: снова работает — рассылка идёт, Telegram больше не просит ждать."
        ]


class Site:
    """A school's site on 127.0.0.1: /rss answers 500 until it is given a feed."""

    def __init__(self) -> None:
        self.rss: bytes | None = None
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        if self.rss is None:
            return web.Response(status=500, text="Internal Server Error")
        return web.Response(body=self.rss, content_type="application/rss+xml")


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    site = Site()
    app = web.Application()
    app.router.add_get("/rss", site.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    site.url = str(server.make_url("/rss"))
    try:
        yield site
    finally:
        await server.close()


RSS = (
    b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>School</title>'
    b"<link>/</link><item><guid>1</guid><title>News</title><link>/n/1</link></item>"
    b"</channel></rss>"
)


async def test_a_feed_failing_for_a_day_is_alerted_and_its_recovery_too(
    emu: BotAPIEmulator, tmp_path: Path, site: Site
) -> None:
    url = site.url
    async with bot_running(emu, tmp_path) as bot:
        bot.person(OWNER, "Ирина")  # the owner has a chat with the bot
        feed = await FeedRepository(bot.engine).add(url, FeedKind.NEWS)
        assert feed is not None
        t0 = datetime.now(UTC)

        async def poll_and_tick(at: datetime) -> None:
            await bot.services.feeds.poll_due_feeds(at)
            await tick(bot, at + timedelta(seconds=30))

        await poll_and_tick(t0)
        beats = await RuntimeStatusRepository(bot.engine).all()
        assert datetime.fromisoformat(beats[f"{FEED_FAILING_SINCE}{feed.id}"][0]) == t0
        await poll_and_tick(t0 + timedelta(hours=8))
        await poll_and_tick(t0 + timedelta(hours=16))
        # Named by status at once (3 failures in a row), but no alert before a day.
        assert "feed_failing" in await codes(bot, t0 + timedelta(hours=16, minutes=1))
        assert alerts(emu) == []
        await poll_and_tick(t0 + timedelta(hours=24, minutes=1))
        [alert] = alerts(emu)
        assert alert.startswith("🚨 «Инфозона»: лента сайта не загружается больше суток")
        assert f"Лента {url} не загружается: 4 раза подряд" in alert
        assert "отключить ленту можно в /feeds" in alert
        await tick(bot, t0 + timedelta(hours=24, minutes=30))
        assert len(alerts(emu)) == 1
        site.rss = RSS  # the site is back
        await poll_and_tick(t0 + timedelta(hours=40))
        assert alerts(emu)[1:] == [f"✅ «Инфозона»: снова работает — лента {url} загружается."]
        beats = await RuntimeStatusRepository(bot.engine).all()
        assert f"{FEED_FAILING_SINCE}{feed.id}" not in beats


async def test_a_failed_backup_is_alerted_and_the_next_good_one_clears_it(
    emu: BotAPIEmulator, tmp_path: Path
) -> None:
    blocker = tmp_path / "disk"
    blocker.write_text("a file where the backup folder's parent should be")
    async with bot_running(
        emu, tmp_path, database_url=sqlite_url(tmp_path), backup_dir=str(blocker / "backups")
    ) as bot:
        bot.person(OWNER, "Ирина")  # the owner has a chat with the bot
        night = datetime.now(UTC).replace(hour=0, minute=30)
        with pytest.raises(NotADirectoryError):
            await heartbeat_job(bot, night).backup(night)  # the timetable's own backup job
        await tick(bot, night + timedelta(minutes=1))
        [alert] = alerts(emu)
        assert alert.startswith("🚨 «Инфозона»: резервная копия не сохранилась")
        assert "Not a directory" in alert
        assert f"Проверьте папку {blocker / 'backups'}" in alert
        await tick(bot, night + timedelta(minutes=2))
        assert len(alerts(emu)) == 1
        blocker.unlink()  # the IT person fixes the disk
        await heartbeat_job(bot, night).backup(night + timedelta(days=1))
        assert (blocker / "backups").is_dir()
        beats = await RuntimeStatusRepository(bot.engine).all()
        assert beats[BACKUP_FAILED][0] == ""  # the job's success is recorded
        await tick(bot, night + timedelta(days=1, minutes=1))
        assert alerts(emu)[1:] == ["✅ «Инфозона»: снова работает — резервная копия сохранилась."]


async def test_a_failed_second_copy_is_alerted_with_its_own_folder_and_cleared(
    emu: BotAPIEmulator, tmp_path: Path
) -> None:
    """BACKUP_COPY_DIR on a disk that is gone: the nightly job makes its first copy, says the
    second is missing and which folder to check; the next night with the disk back clears it."""
    blocker = tmp_path / "usb"
    blocker.write_text("the other disk is not mounted")
    copy_dir = blocker / "infozona"
    async with bot_running(
        emu, tmp_path, database_url=sqlite_url(tmp_path),
        backup_dir=str(tmp_path / "backups"), backup_copy_dir=str(copy_dir),
    ) as bot:  # fmt: skip
        bot.person(OWNER, "Ирина")
        night = datetime.now(UTC).replace(hour=0, minute=30)
        with pytest.raises(BackupCopyError):
            await heartbeat_job(bot, night).backup(night)
        assert [p.name for p in (tmp_path / "backups").iterdir()] == [
            f"infozona-{night.astimezone(bot.settings.tz):%Y-%m-%d}.db"
        ]  # the first copy is made
        await tick(bot, night + timedelta(minutes=1))
        [alert] = alerts(emu)
        assert alert.startswith("🚨 «Инфозона»: резервная копия не сохранилась")
        assert "первая копия на месте, вторая (BACKUP_COPY_DIR) не записалась" in alert
        assert f"Проверьте папку {copy_dir}" in alert
        blocker.unlink()  # the disk is mounted again
        await heartbeat_job(bot, night).backup(night + timedelta(days=1))
        assert len(list(copy_dir.glob("infozona-*.db"))) == 1
        await tick(bot, night + timedelta(days=1, minutes=1))
        assert alerts(emu)[1:] == ["✅ «Инфозона»: снова работает — резервная копия сохранилась."]


async def test_a_backup_made_by_hand_after_the_fix_clears_the_alert(
    emu: BotAPIEmulator, tmp_path: Path
) -> None:
    """The IT person fixes the folder and checks with `python -m bot backup`: the owners
    needn't be reminded of a failure until the next night's run."""
    blocker = tmp_path / "disk"
    blocker.write_text("not a folder")
    folder = blocker / "backups"
    async with bot_running(
        emu, tmp_path, database_url=sqlite_url(tmp_path), backup_dir=str(folder)
    ) as bot:
        bot.person(OWNER, "Ирина")
        t0 = datetime.now(UTC) - timedelta(minutes=10)
        with pytest.raises(NotADirectoryError):
            await heartbeat_job(bot, t0).backup(t0)
        await tick(bot, t0 + timedelta(minutes=1))
        assert len(alerts(emu)) == 1
        blocker.unlink()
        env = {**clean_env(tmp_path), "DATABASE_URL": bot.settings.database_url}
        env["BACKUP_DIR"] = str(folder)
        code, out, err = await run_command(tmp_path, env, "backup")
        assert code == 0, err
        assert "Резервная копия сохранена" in out
        await tick(bot, datetime.now(UTC))
        assert alerts(emu)[1:] == ["✅ «Инфозона»: снова работает — резервная копия сохранилась."]


async def test_a_nearly_full_disk_is_alerted_and_not_again_after_a_restart(
    emu: BotAPIEmulator, tmp_path: Path
) -> None:
    t0 = datetime.now(UTC)
    # "Nearly full" by its setting: less free than a petabyte.
    async with bot_running(
        emu, tmp_path, database_url=sqlite_url(tmp_path), alert_disk_free_mb=10**9
    ) as bot:
        bot.person(OWNER, "Ирина")  # the owner has a chat with the bot
        await tick(bot, t0)
        [alert] = alerts(emu)
        assert alert.startswith("🚨 «Инфозона»: на диске кончается место")
        assert "(порог ALERT_DISK_FREE_MB = 1000000000 МБ)" in alert
        assert "освободите место на сервере" in alert
    async with bot_running(
        emu, tmp_path, database_url=sqlite_url(tmp_path), alert_disk_free_mb=10**9
    ) as bot:
        bot.person(OWNER, "Ирина")  # the owner has a chat with the bot
        await tick(bot, t0 + timedelta(minutes=5))  # a restart remembers it was told
        assert len(alerts(emu)) == 1
    async with bot_running(
        emu, tmp_path, database_url=sqlite_url(tmp_path), alert_db_size_mb=0.01
    ) as bot:
        bot.person(OWNER, "Ирина")  # the owner has a chat with the bot
        # The other threshold: the SQLite file above ALERT_DB_SIZE_MB is the same problem.
        report = await status_report(bot.settings, bot.engine, t0)
        assert [p.code for p in report.found] == ["db_nearly_full"]
        assert "Файл базы вырос до" in report.problems[0]
    async with bot_running(emu, tmp_path, database_url=sqlite_url(tmp_path)) as bot:
        bot.person(OWNER, "Ирина")  # the owner has a chat with the bot
        await tick(bot, t0 + timedelta(minutes=6))
        assert alerts(emu)[1:] == ["✅ «Инфозона»: снова работает — места на диске достаточно."]


REFUSE = """
CREATE TRIGGER refuse_{op} BEFORE {op} ON runtime_status
BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END
"""


def refuse_writes(path: str, refuse: bool) -> None:
    """SQLite answers writes (the heartbeat's) the way a full disk does: a real full disk
    can't be made in a test, and as root a read-only file is still written."""
    with sqlite3.connect(path) as conn:
        for op in ("UPDATE", "INSERT"):
            conn.execute(REFUSE.format(op=op) if refuse else f"DROP TRIGGER refuse_{op}")


async def test_a_database_refusing_writes_is_alerted_and_cleared(
    emu: BotAPIEmulator, tmp_path: Path
) -> None:
    t0 = datetime.now(UTC)
    async with bot_running(emu, tmp_path, database_url=sqlite_url(tmp_path)) as bot:
        bot.person(OWNER, "Ирина")  # the owner has a chat with the bot
        path = str(tmp_path / "infozona.db")
        await tick(bot, t0)
        refuse_writes(path, True)
        await tick(bot, t0 + timedelta(minutes=1))
        [alert] = alerts(emu)
        assert alert.startswith("🚨 «Инфозона»: база не принимает записи")
        assert "(database or disk is full)" in alert
        assert "Проверьте место на диске и права на файл базы" in alert
        # It can't be written down, but this process remembers it told the owner.
        await tick(bot, t0 + timedelta(minutes=2))
        assert len(alerts(emu)) == 1
        refuse_writes(path, False)
        await tick(bot, t0 + timedelta(minutes=3))
        assert alerts(emu)[1:] == ["✅ «Инфозона»: снова работает — база принимает записи."]


async def test_a_rejected_token_goes_to_the_log_only(
    emu: BotAPIEmulator, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with bot_running(emu, tmp_path) as bot:
        bot.person(OWNER, "Ирина")  # the owner has a chat with the bot
        beat = bot.dp["poll_heartbeat"]
        emu.fail_next("getUpdates", status=401, description="Unauthorized", times=10**6)
        emu.send_message(OWNER, "/help")  # the long poll in flight returns; the next is refused
        first = await emu.wait_for(
            lambda c: c.method == "getUpdates" and c.response.get("error_code") == 401, after=0
        )
        for _ in range(200):
            if beat.rejected_since is not None:
                break
            await asyncio.sleep(0.02)
        t0 = datetime.now(UTC)
        await tick(bot, t0 + timedelta(minutes=1))
        assert "token_rejected" in await codes(bot, t0 + timedelta(minutes=1))
        logged = [r.getMessage() for r in caplog.records if "alert" in r.getMessage()]
        assert len(logged) == 1
        head = "alert (log only): token_rejected: 🚨 «Инфозона»: Telegram не принимает токен"
        assert logged[0].startswith(head)
        assert "проверьте BOT_TOKEN" in logged[0]
        await tick(bot, t0 + timedelta(minutes=2))
        assert len([r for r in caplog.records if "alert" in r.getMessage()]) == 1
        assert alerts(emu) == []  # nothing could reach the owner through Telegram
        emu.clear_failures()
        await emu.wait_for(
            lambda c: c.method == "getUpdates" and c.ok, after=emu.calls.index(first) + 1,
            timeout=20,
        )  # fmt: skip
        for _ in range(200):
            if beat.rejected_since is None:
                break
            await asyncio.sleep(0.02)
        await tick(bot, t0 + timedelta(minutes=3))
        cleared = [r.getMessage() for r in caplog.records if "снова работает" in r.getMessage()]
        assert cleared == [
            "alert (log only): token_rejected: "
            "✅ «Инфозона»: снова работает — Telegram принимает токен бота."
        ]
    assert TOKEN not in caplog.text
    assert TOKEN.split(":")[1] not in caplog.text
