from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot import texts
from bot.content.models import (
    CampaignKind,
    Item,
    ItemKind,
    ItemStatus,
    Role,
    Topic,
)
from bot.services.publishing import Publisher
from bot.storage.database import Database
from bot.storage.db import create_engine, migrate
from bot.storage.subscribers import SubscriberRepository
from tests.support.databases import scratch_url
from tests.support.subscribers import subscriber

MSK = ZoneInfo("Europe/Moscow")
NOW = datetime(2026, 11, 26, 18, 0, tzinfo=MSK)


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Database]:
    engine = create_engine(scratch_url(tmp_path, "p"))
    await migrate(engine)
    yield engine
    await engine.dispose()


async def test_a_due_scheduled_post_goes_out_once_to_its_audience(engine: Database) -> None:
    subs = SubscriberRepository(engine)
    await subscriber(subs, 1, role=Role.COORDINATOR)
    await subscriber(subs, 2, role=Role.TEACHER)
    await subscriber(subs, 3, role=Role.COORDINATOR, topics=frozenset({Topic.EVENTS}))
    publisher = Publisher(engine, MSK)
    post = await publisher.items.add(
        Item(0, ItemKind.ANNOUNCEMENT, "Семинар координаторов переносится",
             body="Новая дата — 3 декабря.", status=ItemStatus.SCHEDULED,
             publish_at=NOW + timedelta(minutes=5), audience_roles=frozenset({Role.COORDINATOR}),
             author_id=9000)
    )  # fmt: skip
    assert await publisher.due_posts(NOW) == ""
    assert await publisher.due_posts(NOW + timedelta(minutes=5)) == "published=1"
    assert await publisher.due_posts(NOW + timedelta(minutes=6)) == ""
    campaign = await publisher.campaigns.get_by_key(f"post:{post.id}")
    assert campaign is not None
    assert campaign.kind is CampaignKind.POST
    assert campaign.total == 1  # coordinator 1 only: 2 is a teacher, 3 has announcements off
    assert campaign.progress_chat_id == 9000
    published = await publisher.items.get(post.id)
    assert published is not None and published.status is ItemStatus.PUBLISHED
    (part,) = await publisher.campaigns.variant_parts(await _variant_id(engine, campaign.id))
    assert part.text.startswith("📢 Семинар координаторов переносится")
    assert "Новая дата — 3 декабря." in part.text


async def test_reminders_go_the_evening_before_to_those_who_asked(engine: Database) -> None:
    subs = SubscriberRepository(engine)
    for chat_id in (1, 2, 3):
        await subscriber(subs, chat_id)
    publisher = Publisher(engine, MSK)
    tomorrow = await publisher.items.add(
        Item(0, ItemKind.EVENT, "Экспертный совет", status=ItemStatus.APPROVED,
             starts_at=datetime(2026, 11, 27, 10, 0, tzinfo=MSK), place="ИМЦ, ауд. 12")
    )  # fmt: skip
    later = await publisher.items.add(
        Item(0, ItemKind.EVENT, "Семинар", status=ItemStatus.APPROVED,
             starts_at=datetime(2026, 11, 30, 10, 0, tzinfo=MSK))
    )  # fmt: skip
    assert await publisher.reminders_repo.add(tomorrow.id, 1)
    assert not await publisher.reminders_repo.add(tomorrow.id, 1)  # a second press
    assert await publisher.reminders_repo.add(tomorrow.id, 2)
    assert await publisher.reminders_repo.add(later.id, 3)

    assert await publisher.reminders(NOW) == "events=1 reminders=2"
    assert await publisher.reminders(NOW) == ""  # sent once
    campaign = await publisher.campaigns.get_by_key(f"reminder:{tomorrow.id}:2026-11-27")
    assert campaign is not None and campaign.total == 2
    (part,) = await publisher.campaigns.variant_parts(await _variant_id(engine, campaign.id))
    assert "Напоминание: завтра" in part.text
    assert "пт, 27 ноября, 10:00" in part.text and "ИМЦ, ауд. 12" in part.text


def test_a_post_keeps_the_editors_formatting() -> None:
    body = "Приглашаем на семинар. Программа по ссылке."
    entities = '[{"type": "bold", "offset": 0, "length": 10}]'
    item = Item(1, ItemKind.ANNOUNCEMENT, "Семинар", body=body, body_entities=entities,
                url="https://imc.example/s")  # fmt: skip
    text, rendered = texts.item_post(item, MSK).render()
    assert "Приглашаем на семинар." in text
    bold = [e for e in rendered if e.type == "bold"]
    utf16 = text.encode("utf-16-le")  # entity offsets count UTF-16 units, as Telegram does
    spans = [utf16[2 * e.offset : 2 * (e.offset + e.length)].decode("utf-16-le") for e in bold]
    assert "Приглашаем" in spans
    assert any(e.type == "text_link" and e.url == "https://imc.example/s" for e in rendered)


async def _variant_id(engine: Database, campaign_id: int) -> int:
    import sqlalchemy as sa

    from bot.storage.schema import campaign_variants

    query = sa.select(campaign_variants.c.id).where(campaign_variants.c.campaign_id == campaign_id)
    async with engine.connect() as conn:
        return int((await conn.execute(query)).scalar_one())
