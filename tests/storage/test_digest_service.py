"""The digest service over a real SQLite database: items, signatures, campaign, outbox."""

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from aiogram.utils.formatting import sizeof

from bot import texts
from bot.content.digest import MESSAGE_LIMIT, daily_period, weekly_period
from bot.content.models import (
    Campaign,
    CampaignKind,
    Frequency,
    Item,
    ItemKind,
    ItemStatus,
    MessagePart,
    OrgKind,
    Role,
    SubscriberStatus,
    Topic,
    preference_signature,
)
from bot.services import digests
from bot.services.digests import create_digest, preview_digest
from bot.storage.campaigns import CampaignRepository
from bot.storage.database import Database
from bot.storage.db import create_engine, migrate
from bot.storage.items import ItemRepository
from bot.storage.schema import deliveries
from bot.storage.subscribers import SubscriberRepository
from tests.support.databases import scratch_url
from tests.support.subscribers import subscriber

MSK = ZoneInfo("Europe/Moscow")
RUN = datetime(2026, 11, 30, 9, 0, tzinfo=MSK)  # Monday
DAILY_RUN = datetime(2026, 11, 30, 8, 30, tzinfo=MSK)
EVENTS_ONLY = frozenset({Topic.EVENTS})


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Database]:
    engine = create_engine(scratch_url(tmp_path, "d"))
    await migrate(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
def items(engine: Database) -> ItemRepository:
    return ItemRepository(engine)


@pytest.fixture
def subs(engine: Database) -> SubscriberRepository:
    return SubscriberRepository(engine)


@pytest.fixture
def campaigns(engine: Database) -> CampaignRepository:
    return CampaignRepository(engine)


def new(kind: ItemKind, title: str, **fields: object) -> Item:
    values: dict[str, object] = {"status": ItemStatus.APPROVED}
    values.update(fields)
    return Item(0, kind, title, **values)  # type: ignore[arg-type]


async def add_content(items: ItemRepository) -> None:
    await items.add(
        new(ItemKind.MATERIAL, "Методичка для всех", approved_at=RUN - timedelta(days=2))
    )
    await items.add(
        new(ItemKind.MATERIAL, "Для руководителей", approved_at=RUN - timedelta(days=3),
            audience_roles=frozenset({Role.HEAD}))
    )  # fmt: skip
    await items.add(
        new(ItemKind.MATERIAL, "Для детских садов", approved_at=RUN - timedelta(days=1),
            audience_orgs=frozenset({OrgKind.KINDERGARTEN}))
    )  # fmt: skip
    await items.add(
        new(ItemKind.MATERIAL, "Черновик", status=ItemStatus.DRAFT, approved_at=RUN - timedelta(1))
    )
    await items.add(
        new(ItemKind.EVENT, "Семинар координаторов", starts_at=RUN + timedelta(days=3, hours=1),
            place="ИМЦ", url="https://imc.example/seminar", approved_at=RUN - timedelta(days=1))
    )  # fmt: skip
    await items.add(
        new(ItemKind.CASE, "Проектная неделя", approved_at=RUN - timedelta(days=4),
            organisation="ГБОУ СОШ № 7", body="Как мы провели неделю проектов.")
    )  # fmt: skip
    await items.add(new(ItemKind.ANNOUNCEMENT, "Объявление", approved_at=RUN - timedelta(days=1)))


async def delivered_text(engine: Database, campaign_id: int, chat_id: int) -> str | None:
    """What reached this chat's delivery row: its variant's parts, joined."""
    async with engine.connect() as conn:
        variant_id = (
            await conn.execute(
                sa.select(deliveries.c.variant_id).where(
                    deliveries.c.campaign_id == campaign_id, deliveries.c.chat_id == chat_id
                )
            )
        ).scalar_one_or_none()
    if variant_id is None:
        return None
    parts = await CampaignRepository(engine).variant_parts(variant_id)
    return "\n\n".join(p.text for p in parts)


async def run_weekly(
    items: ItemRepository, campaigns: CampaignRepository, slot: str = "digest:weekly:2026-W49"
) -> digests.DigestResult:
    period = weekly_period(RUN)
    return await create_digest(
        Frequency.WEEKLY, slot, period.start, period.end, RUN,
        items=items, subscribers=items, campaigns=campaigns,
    )  # fmt: skip


async def test_items_round_trip_in_utc(items: ItemRepository) -> None:
    stored = await items.add(
        new(ItemKind.EVENT, "Экспертный совет", starts_at=datetime(2026, 12, 1, 10, 0, tzinfo=MSK),
            audience_roles=frozenset({Role.HEAD, Role.COORDINATOR}),
            audience_orgs=frozenset({OrgKind.SCHOOL}), place="ИМЦ", timing_text="Два раза в год")
    )  # fmt: skip
    assert stored.id > 0
    again = await items.get(stored.id)
    assert again == stored
    assert stored.starts_at == datetime(2026, 12, 1, 7, 0, tzinfo=UTC)
    assert stored.audience_roles == {Role.HEAD, Role.COORDINATOR}
    assert stored.created_at is not None
    # Bounds in another zone compare as instants, not as wall-clock strings.
    found = await items.events_starting(
        datetime(2026, 12, 1, 9, 59, tzinfo=MSK), datetime(2026, 12, 1, 10, 1, tzinfo=MSK)
    )
    assert [e.id for e in found] == [stored.id]
    assert (
        await items.events_starting(
            datetime(2026, 12, 1, 10, 1, tzinfo=MSK), datetime(2026, 12, 2, tzinfo=MSK)
        )
        == []
    )


async def test_distinct_signatures_match_the_fan_out_and_skip_the_inactive(
    items: ItemRepository, subs: SubscriberRepository
) -> None:
    await subscriber(subs, 1)
    await subscriber(subs, 2)  # same preferences as 1
    await subscriber(subs, 3, role=Role.HEAD, org=OrgKind.KINDERGARTEN, topics=EVENTS_ONLY)
    await subscriber(subs, 4, role=Role.HEAD, status=SubscriberStatus.PAUSED)
    await subscriber(subs, 5, role=Role.METHODIST, status=SubscriberStatus.BLOCKED)
    await subscriber(subs, 6, role=Role.OTHER, onboarded=False)
    await subscriber(subs, 7, frequency=Frequency.DAILY)
    groups = [g async for g in items.distinct_signatures(Frequency.WEEKLY)]
    assert sorted(g.signature for g in groups) == sorted(
        [
            preference_signature(Frequency.WEEKLY, frozenset(Topic), Role.TEACHER, OrgKind.SCHOOL),
            preference_signature(Frequency.WEEKLY, EVENTS_ONLY, Role.HEAD, OrgKind.KINDERGARTEN),
        ]
    )
    head = next(g for g in groups if g.role is Role.HEAD)
    assert head.topics == EVENTS_ONLY and head.org_kind is OrgKind.KINDERGARTEN


async def test_weekly_digest_is_personalised_and_skips_who_should_get_nothing(
    engine: Database,
    items: ItemRepository,
    subs: SubscriberRepository,
    campaigns: CampaignRepository,
) -> None:
    await add_content(items)
    await subscriber(subs, 1)  # teacher, school, everything
    await subscriber(subs, 2, role=Role.HEAD, org=OrgKind.KINDERGARTEN)
    await subscriber(subs, 3, topics=frozenset({Topic.ANNOUNCEMENTS}))  # empty digest
    await subscriber(subs, 4, status=SubscriberStatus.PAUSED)
    await subscriber(subs, 5, status=SubscriberStatus.BLOCKED)
    await subscriber(subs, 6, frequency=Frequency.OFF)
    await subscriber(subs, 7, onboarded=False)
    await subscriber(subs, 8, frequency=Frequency.DAILY)

    result = await run_weekly(items, campaigns)

    assert result.campaign is not None
    assert result.campaign.kind is CampaignKind.DIGEST
    assert result.campaign.title == "Дайджест «Инфозоны» · 30 ноября – 6 декабря"
    assert (result.variants, result.recipients) == (2, 2)
    teacher = await delivered_text(engine, result.campaign.id, 1)
    assert teacher is not None
    assert "В выпуске: 1 новый материал, 1 ближайшее мероприятие и опыт площадки." in teacher
    assert "Методичка для всех" in teacher
    assert "Для руководителей" not in teacher and "Для детских садов" not in teacher
    assert "Черновик" not in teacher and "Объявление" not in teacher
    assert "▫️ чт, 3 декабря, 10:00 — Семинар координаторов\n📍 ИМЦ" in teacher
    assert "💡 Опыт площадок\nПроектная неделя\n🏫 ГБОУ СОШ № 7" in teacher
    head = await delivered_text(engine, result.campaign.id, 2)
    assert head is not None
    assert "3 новых материала" in head
    assert head.index("Для детских садов") < head.index("Методичка для всех")  # newest first
    for chat_id in (3, 4, 5, 6, 7, 8):
        assert await delivered_text(engine, result.campaign.id, chat_id) is None


async def test_daily_events_only_subscriber_gets_events_only(
    engine: Database,
    items: ItemRepository,
    subs: SubscriberRepository,
    campaigns: CampaignRepository,
) -> None:
    await add_content(items)
    await subscriber(subs, 1, frequency=Frequency.DAILY, topics=EVENTS_ONLY)
    await subscriber(subs, 2, frequency=Frequency.WEEKLY, topics=EVENTS_ONLY)
    period = daily_period(DAILY_RUN)
    assert period.start == datetime(2026, 11, 27, 8, 30, tzinfo=MSK)  # since Friday's run
    result = await create_digest(
        Frequency.DAILY, "digest:daily:2026-11-30", period.start, period.end, DAILY_RUN,
        items=items, subscribers=items, campaigns=campaigns,
    )  # fmt: skip
    assert result.campaign is not None and result.recipients == 1
    text = await delivered_text(engine, result.campaign.id, 1)
    assert text is not None
    assert text.startswith("Дайджест «Инфозоны» · пн, 30 ноября\n")
    assert "📅 Ближайшие мероприятия" in text and "Семинар координаторов" in text
    assert "📚" not in text and "💡" not in text and "Методичка" not in text
    assert await delivered_text(engine, result.campaign.id, 2) is None


async def test_an_empty_digest_is_not_sent_but_the_slot_is_taken(
    items: ItemRepository, subs: SubscriberRepository, campaigns: CampaignRepository
) -> None:
    await subscriber(subs, 1)
    await items.add(new(ItemKind.MATERIAL, "Старое", approved_at=RUN - timedelta(days=30)))
    result = await run_weekly(items, campaigns)
    assert result.campaign is not None
    assert (result.variants, result.recipients, result.campaign.total) == (0, 0, 0)
    assert (await run_weekly(items, campaigns)).campaign is None


async def test_a_slot_key_used_twice_makes_one_campaign(
    items: ItemRepository, subs: SubscriberRepository, campaigns: CampaignRepository
) -> None:
    await add_content(items)
    await subscriber(subs, 1)
    first = await run_weekly(items, campaigns)
    second = await run_weekly(items, campaigns)
    assert first.campaign is not None and first.recipients == 1
    assert second == digests.DigestResult(None, 0, 0)
    assert second.outcome() == "already taken"
    assert (await campaigns.counts(first.campaign.id)).total == 1


async def test_a_slot_taken_while_composing_still_yields_one_campaign(
    items: ItemRepository,
    subs: SubscriberRepository,
    campaigns: CampaignRepository,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two instances both pass the early check: the key's uniqueness decides."""
    await add_content(items)
    await subscriber(subs, 1)

    first = await run_weekly(items, campaigns)
    real_get_by_key = campaigns.get_by_key
    checks: list[str] = []

    async def first_check_misses(key: str) -> Campaign | None:
        checks.append(key)
        return None if len(checks) == 1 else await real_get_by_key(key)

    monkeypatch.setattr(campaigns, "get_by_key", first_check_misses)
    second = await run_weekly(items, campaigns)
    assert first.campaign is not None and second.campaign is None


async def test_groups_with_the_same_digest_are_rendered_once(
    engine: Database,
    items: ItemRepository,
    subs: SubscriberRepository,
    campaigns: CampaignRepository,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await items.add(new(ItemKind.MATERIAL, "Для всех", approved_at=RUN - timedelta(days=1)))
    for chat_id, role in enumerate((Role.TEACHER, Role.HEAD, Role.METHODIST, Role.OTHER)):
        await subscriber(subs, 100 + chat_id, role=role)
    calls: list[object] = []
    render = texts.digest_messages

    def counting(*args: object, **kwargs: object) -> list[MessagePart]:
        calls.append(args)
        return render(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(texts, "digest_messages", counting)
    result = await run_weekly(items, campaigns)
    assert (result.variants, result.recipients, len(calls)) == (4, 4, 1)


async def test_a_big_digest_reaches_the_outbox_in_parts_under_the_limit(
    engine: Database,
    items: ItemRepository,
    subs: SubscriberRepository,
    campaigns: CampaignRepository,
) -> None:
    template = new(ItemKind.MATERIAL, "", body="Подробное описание методического материала. " * 6)
    for n in range(60):
        await items.add(
            replace(template, title=f"Материал {n:02d}", approved_at=RUN - timedelta(hours=n + 1))
        )
    await subscriber(subs, 1)
    result = await run_weekly(items, campaigns)
    assert result.campaign is not None
    async with engine.connect() as conn:
        variant_id = (
            await conn.execute(sa.select(deliveries.c.variant_id).where(deliveries.c.chat_id == 1))
        ).scalar_one()
    parts = await campaigns.variant_parts(variant_id)
    assert len(parts) > 1
    assert all(sizeof(p.text) <= MESSAGE_LIMIT for p in parts)
    text = "\n\n".join(p.text for p in parts)
    assert "60 новых материалов" in text
    positions = [text.index(f"Материал {n:02d}\n") for n in range(60)]  # newest first, all whole
    assert positions == sorted(positions)


async def test_preview_shows_what_those_preferences_would_get(
    items: ItemRepository, campaigns: CampaignRepository
) -> None:
    await add_content(items)
    parts = await preview_digest(
        Role.HEAD, OrgKind.SCHOOL, frozenset(Topic), Frequency.WEEKLY, RUN, items=items
    )
    assert len(parts) == 1
    assert parts[0].text.startswith("Дайджест «Инфозоны» · 30 ноября – 6 декабря\n")
    assert "Для руководителей" in parts[0].text and "Для детских садов" not in parts[0].text
    assert any(e["type"] == "bot_link" for e in parts[0].entities)  # titles open cards
    nothing = await preview_digest(
        Role.TEACHER, OrgKind.SCHOOL, frozenset({Topic.ANNOUNCEMENTS}), Frequency.DAILY, RUN,
        items=items,
    )  # fmt: skip
    assert nothing == []
    assert await campaigns.in_progress() == []  # a preview creates nothing
