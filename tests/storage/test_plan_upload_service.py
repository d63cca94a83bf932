"""An editor's uploaded plan file: stored once, re-sent without duplicates, refused when huge."""

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.content.plan import PlanFormatError
from bot.services.plan_upload import PLAN_FILE_MAX, PlanTooBigError, import_plan_file
from bot.storage.database import Database
from bot.storage.db import create_engine, migrate
from bot.storage.items import ItemRepository
from tests.support import PLAN_2021

MSK = ZoneInfo("Europe/Moscow")
NOW = datetime(2021, 9, 1, 9, 0, tzinfo=MSK)


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Database]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/u.db")
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
