"""`python -m bot status` tells what the running bot really went through.

The bot polls the emulator; the emulator then plays an outage or a second process on the same
token (409 Conflict). The timetable's heartbeat job and the status report are then run at the
moment an operator would look — minutes into the incident — by their clocks, not by waiting.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from bot.services.status import status_report
from bot.services.timetable import Timetable
from tests.support.emulator import BotAPIEmulator, Call
from tests.support.harness import RunningBot, bot_running


def heartbeat_job(bot: RunningBot, at: datetime) -> Timetable:
    """The production heartbeat job of this bot, its clock reading `at`."""
    beat = bot.dp["poll_heartbeat"]
    return Timetable(
        bot.settings, bot.services, poll_feeds=False, clock=lambda: at,
        last_poll=lambda: beat.last_poll_at, poll_conflict=lambda: beat.conflict_since,
    )  # fmt: skip


def failed_poll(code: int) -> Callable[[Call], bool]:
    def predicate(call: Call) -> bool:
        return call.method == "getUpdates" and call.response.get("error_code") == code

    return predicate


async def a_poll_answered(bot: RunningBot, user_id: int = 701) -> None:
    """Make the current long poll return at once with an update, and wait till it's handled."""
    person = bot.person(user_id)
    bot.emu.send_message(person.id, "/help")
    await bot.handled(lambda u: u.message is not None and u.message.chat.id == person.id)


async def test_through_an_outage_status_shows_the_last_answer_and_says_so(
    emu: BotAPIEmulator, tmp_path: Path
) -> None:
    """It used to show the heartbeat job's own write time: «только что» through 150 s of
    Telegram not answering."""
    async with bot_running(emu, tmp_path) as bot:
        await a_poll_answered(bot)
        emu.fail_next("getUpdates", status=502, times=10**6)  # the outage begins
        await emu.wait_for(failed_poll(502), after=0, timeout=15)
        last = bot.dp["poll_heartbeat"].last_poll_at
        assert last is not None
        later = (last + timedelta(seconds=150)).astimezone(bot.settings.tz)
        await heartbeat_job(bot, later).heartbeat(later)
        report = await status_report(bot.settings, bot.engine, later)
    shown = f"{last.astimezone(bot.settings.tz):%d.%m.%Y %H:%M} (2 мин назад)"
    assert f"  Последний ответ Telegram (опрос обновлений): {shown}" in report.lines
    assert report.problems == [
        f"⚠ Telegram не отвечает на опрос обновлений 2 мин 30 с (последний ответ в "
        f"{last.astimezone(bot.settings.tz):%H:%M:%S}): проверьте сеть сервера и журнал бота."
    ]


async def test_a_409_conflict_for_100_seconds_is_reported_until_it_ends(
    emu: BotAPIEmulator, tmp_path: Path
) -> None:
    """Another process polling the same token: Telegram answers 409 and aiogram only logs and
    retries; status said «Всё в порядке»."""
    async with bot_running(emu, tmp_path) as bot:
        await a_poll_answered(bot)
        emu.fail_next("getUpdates", status=409, times=10**6)
        first = await emu.wait_for(failed_poll(409), after=0, timeout=15)
        # The bot retries only after its middleware saw the first one.
        await emu.wait_for(failed_poll(409), after=emu.calls.index(first) + 1, timeout=15)
        since = bot.dp["poll_heartbeat"].conflict_since
        assert since is not None
        later = (since + timedelta(seconds=100)).astimezone(bot.settings.tz)
        await heartbeat_job(bot, later).heartbeat(later)
        during = await status_report(bot.settings, bot.engine, later)

        emu.clear_failures()  # the other process stopped
        await a_poll_answered(bot, 702)
        recovered = bot.dp["poll_heartbeat"].last_poll_at
        assert recovered is not None and bot.dp["poll_heartbeat"].conflict_since is None
        after = (recovered + timedelta(seconds=10)).astimezone(bot.settings.tz)
        await heartbeat_job(bot, after).heartbeat(after)
        over = await status_report(bot.settings, bot.engine, after)
    assert during.problems == [
        f"⚠ Telegram уже 1 мин 40 с (с {since.astimezone(bot.settings.tz):%H:%M:%S}) отвечает "
        "на опрос обновлений 409 Conflict: этим же токеном опрашивает Telegram другой процесс — "
        "остановите лишний экземпляр бота."
    ]
    assert over.problems == []
