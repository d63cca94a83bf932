"""Two workers on one database: one sends and keeps the timetable, the other waits as its hot
standby and takes over when the first stops — each subscriber gets the post once."""

from __future__ import annotations

import asyncio
import os
import socket
from datetime import UTC, datetime
from pathlib import Path

from bot.app import Background, run_worker
from bot.content.models import Audience, CampaignKind, MessagePart, Role
from bot.delivery.engine import Sender
from bot.services.status import status_report
from bot.storage.campaigns import SINGLE_VARIANT, CampaignRepository
from bot.storage.db import create_engine, migrate
from bot.storage.subscribers import SubscriberRepository
from tests.support.emulator import BotAPIEmulator
from tests.support.harness import make_settings
from tests.support.waiting import until

FIRST_CHAT = 5100
CHATS = 12
TEXT = "Семинар переносится на четверг."


async def test_the_standby_takes_over_and_nobody_gets_the_post_twice(
    emu: BotAPIEmulator, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path, telegram_api_base=emu.base_url, send_rate=4)
    engine = create_engine(settings.database_url)
    await migrate(engine)
    subscribers = SubscriberRepository(engine)
    for chat_id in range(FIRST_CHAT, FIRST_CHAT + CHATS):
        emu.user(chat_id, first_name="Педагог")
        await subscribers.register(chat_id, name="Педагог", username=None, source=None)
        await subscribers.set_role(chat_id, Role.TEACHER)
        await subscribers.mark_onboarded(chat_id)

    def worker() -> tuple[Background, asyncio.Event, asyncio.Task[None]]:
        background = Background(settings, engine, sender=Sender(settings, engine, idle_poll=0.1))
        stop = asyncio.Event()
        task = asyncio.create_task(run_worker(settings, engine, background=background, stop=stop))
        return background, stop, task

    first, stop_first, first_task = worker()
    await until(lambda: first.active)
    second, stop_second, second_task = worker()
    try:
        await until(lambda: len(emu.calls_of("getMe")) == 2)
        assert first.running() == {"sender", "timetable"}
        assert not second.active and second.running() == set()

        campaign = await CampaignRepository(engine).create(
            "post:standby", CampaignKind.POST, "x",
            {SINGLE_VARIANT: [MessagePart(TEXT)]}, Audience(),
        )  # fmt: skip
        assert campaign is not None
        first.sender.wake()
        # A third of the chats have it when the active worker goes away.
        await until(lambda: len(_got_it(emu)) >= CHATS // 3)
        stop_first.set()
        await first_task
        assert first.running() == set()

        await until(lambda: second.active, within=10.0)
        assert second.running() == {"sender", "timetable"}
        await until(lambda: len(_got_it(emu)) == CHATS, within=20.0)
        assert sorted(_got_it(emu)) == list(range(FIRST_CHAT, FIRST_CHAT + CHATS))
        assert all(count == 1 for count in _got_it(emu).values())
        # `python -m bot status` names the worker that sends now.
        report = await status_report(settings, engine, datetime.now(UTC))
        assert report.facts["sender_owner"] == second.sender.owner
        assert f"Рассылку и расписание ведёт: {socket.gethostname()}, процесс {os.getpid()}" in (
            "\n".join(report.lines)
        )
    finally:
        stop_first.set()
        stop_second.set()
        await asyncio.gather(first_task, second_task, return_exceptions=True)
        await engine.dispose()


def _got_it(emu: BotAPIEmulator) -> dict[int, int]:
    counts: dict[int, int] = {}
    for call in emu.calls_of("sendMessage"):
        if call.ok and call.params.get("text") == TEXT and call.chat_id is not None:
            counts[call.chat_id] = counts.get(call.chat_id, 0) + 1
    return counts
