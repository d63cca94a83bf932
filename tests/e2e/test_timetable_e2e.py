"""The timetable through the running bot: digests reach phones once per slot, by preference."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from bot.content.models import Item, ItemKind, ItemStatus
from bot.services.timetable import Timetable
from bot.storage.campaigns import CampaignRepository
from bot.storage.items import ItemRepository
from tests.support.harness import RunningBot, subscribe

MSK = ZoneInfo("Europe/Moscow")
# A Monday in the past: the outbox sends what is due by the real clock.
MONDAY_0830 = datetime(2026, 11, 23, 8, 30, tzinfo=MSK)
MONDAY_0900 = datetime(2026, 11, 23, 9, 0, tzinfo=MSK)


def timetable_at(running_bot: RunningBot, now: datetime) -> Timetable:
    return Timetable(
        running_bot.settings, running_bot.services, poll_feeds=False, clock=lambda: now
    )


async def add_content(items: ItemRepository) -> None:
    await items.add(
        Item(0, ItemKind.MATERIAL, "Методические рекомендации по проектной неделе",
             status=ItemStatus.APPROVED, approved_at=MONDAY_0830 - timedelta(days=1))
    )  # fmt: skip
    await items.add(
        Item(0, ItemKind.EVENT, "Семинар для координаторов", status=ItemStatus.APPROVED,
             approved_at=MONDAY_0830 - timedelta(days=1), place="ИМЦ, ауд. 12",
             starts_at=datetime(2026, 11, 26, 10, 0, tzinfo=MSK))
    )  # fmt: skip


async def test_daily_events_only_subscriber_gets_events_only_once_per_slot(
    running_bot: RunningBot,
) -> None:
    emu = running_bot.emu
    daily = running_bot.person(801, "Ирина")
    weekly = running_bot.person(802, "Олег")
    await subscribe(
        daily, topics_off=("Методические", "Опыт площадок", "Объявления"),
        frequency="Каждый рабочий день",
    )  # fmt: skip
    await subscribe(weekly, topics_off=(), frequency="Раз в неделю")
    await add_content(ItemRepository(running_bot.engine))

    emu.mark()
    timetable = timetable_at(running_bot, MONDAY_0830)
    first = await timetable.daily_digest(MONDAY_0830)
    digest = await emu.next_message(801)
    assert digest["text"].startswith("Дайджест «Инфозоны» · пн, 23 ноября")
    assert "Семинар для координаторов" in digest["text"]
    assert "чт, 26 ноября, 10:00" in digest["text"]
    assert "Методические рекомендации" not in digest["text"]

    # The same slot again — a restart, a misfire caught up, a second instance: nothing new.
    second = await timetable.daily_digest(MONDAY_0830)
    await timetable.catch_up()
    assert "campaign=" in first
    assert "already taken" in second
    weekly_run = await timetable_at(running_bot, MONDAY_0900).weekly_digest(MONDAY_0900)
    weekly_digest = await emu.next_message(802)
    assert "Методические рекомендации" in weekly_digest["text"]
    assert "Семинар для координаторов" in weekly_digest["text"]
    assert "campaign=" in weekly_run
    campaigns = CampaignRepository(running_bot.engine)
    daily_campaign = await campaigns.get_by_key("digest:daily:2026-11-23")
    weekly_campaign = await campaigns.get_by_key("digest:weekly:2026-W48")
    assert daily_campaign is not None and daily_campaign.total == 1  # Ирина only
    assert weekly_campaign is not None and weekly_campaign.total == 1  # Олег only
    async with running_bot.engine.connect() as conn:
        keys = (await conn.execute(sa.text("SELECT key FROM campaigns ORDER BY id"))).all()
    assert keys == [("digest:daily:2026-11-23",), ("digest:weekly:2026-W48",)]
