"""The status report on a database as the bot leaves it at night: quiet hours are no alarm."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.config import load_settings
from bot.content.models import Audience, CampaignKind, MessagePart
from bot.services.status import status_report
from bot.storage.campaigns import SINGLE_VARIANT, CampaignRepository
from bot.storage.database import Database
from bot.storage.db import create_engine, migrate
from bot.storage.outbox import LAST_SEND_AT, UNRECORDED_AT_RESTART, OutboxRepository
from bot.storage.subscribers import SubscriberRepository
from bot.storage.timetable import LAST_POLL_AT, LAST_TICK_AT, RuntimeStatusRepository
from tests.support.databases import scratch_url
from tests.support.subscribers import subscriber

MSK = ZoneInfo("Europe/Moscow")
SETTINGS = load_settings(_env_file=None, quiet_hours="21:00-08:00", timezone="Europe/Moscow")


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Database]:
    engine = create_engine(scratch_url(tmp_path, "s"))
    await migrate(engine)
    subs = SubscriberRepository(engine)
    for chat_id in range(1, 4):
        await subscriber(subs, chat_id)
    yield engine
    await engine.dispose()


async def a_running_bot_at(engine: Database, now: datetime) -> None:
    beats = RuntimeStatusRepository(engine)
    await beats.put(LAST_TICK_AT, now.isoformat(), now)
    await beats.put(LAST_POLL_AT, now.isoformat(), now)


async def test_a_campaign_paused_for_the_night_is_shown_as_such_not_as_a_stall(
    engine: Database,
) -> None:
    """Every night status used to exit 1: deliveries pending, the last send hours ago."""
    evening = datetime(2026, 3, 2, 20, 55, tzinfo=MSK)
    campaign = await CampaignRepository(engine).create(
        "post:1", CampaignKind.POST, "Семинар", {SINGLE_VARIANT: [MessagePart("Семинар")]},
        Audience(), now=evening,
    )  # fmt: skip
    assert campaign is not None
    outbox = OutboxRepository(engine)
    await outbox.set_status_value(LAST_SEND_AT, "1", evening)
    assert await outbox.pause_for_quiet_hours() == [campaign.id]  # what the sender does at 21:00

    night = datetime(2026, 3, 2, 23, 30, tzinfo=MSK)
    await a_running_bot_at(engine, night)
    report = await status_report(SETTINGS, engine, night)
    assert report.problems == []
    assert (
        f"  #{campaign.id} «Семинар»: отправлено 0 из 3, ошибок 0, заблокировали 0"
        " — пауза до 08:00 (тихие часы)"
    ) in report.lines

    # Still paused at ten in the morning: that is a stall, and said so.
    morning = datetime(2026, 3, 3, 10, 0, tzinfo=MSK)
    await a_running_bot_at(engine, morning)
    report = await status_report(SETTINGS, engine, morning)
    assert [p[:40] for p in report.problems] == ["⚠ Сообщения ждут отправки, а последняя о"]


async def test_messages_sent_again_after_a_crash_are_told_but_are_no_alarm(
    engine: Database,
) -> None:
    """The sender's count of sends a killed run left unrecorded (the only way a subscriber
    gets a message twice) reaches the operator; a clean start (0) says nothing."""
    outbox = OutboxRepository(engine)
    restart = datetime(2026, 3, 3, 10, 0, tzinfo=MSK)
    later = datetime(2026, 3, 3, 10, 20, tzinfo=MSK)
    await a_running_bot_at(engine, later)

    await outbox.set_status_value(UNRECORDED_AT_RESTART, "0", restart)
    report = await status_report(SETTINGS, engine, later)
    assert not [line for line in report.lines if "ещё раз" in line]

    await outbox.set_status_value(UNRECORDED_AT_RESTART, "3", restart)
    report = await status_report(SETTINGS, engine, later)
    assert report.problems == []
    assert (
        "После перезапуска 03.03.2026 10:00 (20 мин назад) отправлены ещё раз 3 сообщения: до "
        "аварийной остановки они, возможно, уже ушли, но не были записаны — кто-то мог "
        "получить их дважды."
    ) in report.lines
