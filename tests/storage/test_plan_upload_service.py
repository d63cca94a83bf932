"""An editor's uploaded plan file: stored once, re-sent without duplicates, refused when huge."""

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot import texts
from bot.content.plan import PlanFormatError
from bot.services.plan_upload import PLAN_FILE_MAX, PlanTooBigError, import_plan_file
from bot.storage.database import Database
from bot.storage.db import create_engine, migrate
from bot.storage.items import ItemRepository
from tests.support import PLAN_2021
from tests.support.databases import scratch_url
from tests.support.word import word_numbered_plan

MSK = ZoneInfo("Europe/Moscow")
NOW = datetime(2021, 9, 1, 9, 0, tzinfo=MSK)


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Database]:
    engine = create_engine(scratch_url(tmp_path, "u"))
    await migrate(engine)
    yield engine
    await engine.dispose()


async def test_the_same_plan_sent_twice_is_stored_once(engine: Database) -> None:
    items = ItemRepository(engine)
    data = PLAN_2021.read_bytes()
    plan, first = await import_plan_file(data, items, MSK, NOW)
    assert first.new == len(plan.items) > 0
    _, second = await import_plan_file(data, items, MSK, NOW)
    assert (second.new, second.updated, second.unchanged) == (0, 0, len(plan.items))


async def test_a_huge_or_foreign_file_is_refused(engine: Database) -> None:
    items = ItemRepository(engine)
    with pytest.raises(PlanTooBigError):
        await import_plan_file(b"x" * (PLAN_FILE_MAX + 1), items, MSK, NOW)
    with pytest.raises(PlanFormatError):
        await import_plan_file("Список покупок: хлеб, молоко".encode(), items, MSK, NOW)


async def test_a_word_plans_responsible_column_is_stored_apart_and_shown(
    engine: Database,
) -> None:
    """«Ответственный» is who runs the activity, not who it is for: the item keeps it as its
    own text, its audience stays everyone, and the «what's next» entry shows it."""
    items = ItemRepository(engine)
    plan, report = await import_plan_file(word_numbered_plan(), items, MSK, NOW)
    assert report.new == 4
    contest = await items.by_source_key("plan:2024-2025:2")
    assert contest is not None
    assert contest.responsible_text == "Педагоги" and not contest.audience_text
    assert contest.audience_roles == frozenset() and contest.audience_orgs == frozenset()
    text, _ = texts.short_answer("Мероприятия", [(1, contest)], 0, MSK).render()
    assert "Ответственные: Педагоги" in text and "Для:" not in text
    _, again = await import_plan_file(word_numbered_plan(), items, MSK, NOW)
    assert (again.new, again.updated, again.unchanged) == (0, 0, 4)
    assert [item.responsible for item in plan.items] == [
        "Руководители ОУ", "Педагоги", "Руководители ОУ", "Методисты",
    ]  # fmt: skip
