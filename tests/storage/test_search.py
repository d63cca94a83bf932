from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.content.models import Item, ItemKind, ItemStatus
from bot.content.search import search_document, stems
from bot.storage.database import Database
from bot.storage.db import create_engine, migrate
from bot.storage.feedback import FeedbackRepository
from bot.storage.items import ItemRepository
from bot.storage.subscribers import SubscriberRepository
from tests.support.databases import scratch_url


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Database]:
    engine = create_engine(scratch_url(tmp_path, "s"))
    await migrate(engine)
    yield engine
    await engine.dispose()


def test_word_forms_share_a_stem() -> None:
    assert stems("инновационный") == stems("Инновационные") == stems("ИННОВАЦИОННАЯ")
    assert stems("ёлка") == stems("елки")
    assert stems("и в на для") == []
    assert search_document("Площадки", "площадка и площадкам") == " площадк "


async def test_search_finds_any_word_form_in_titles_and_bodies(engine: Database) -> None:
    items = ItemRepository(engine)
    visible = ItemStatus.APPROVED
    await items.add(Item(0, ItemKind.MATERIAL, "Инновационные практики школ", status=visible))
    await items.add(
        Item(0, ItemKind.CASE, "Проектная неделя", body="Опыт инновационной площадки ДОУ № 5",
             status=visible)
    )  # fmt: skip
    await items.add(Item(0, ItemKind.MATERIAL, "Инновационный черновик"))  # a draft: hidden
    await items.add(Item(0, ItemKind.EVENT, "Семинар координаторов", status=visible))

    found, total = await items.search("инновационный", limit=10)
    assert total == 2
    assert {i.title for i in found} == {"Инновационные практики школ", "Проектная неделя"}
    found, total = await items.search("инновационные площадки", limit=10)
    assert [i.title for i in found] == ["Проектная неделя"]  # every word must be there
    assert (await items.search("семинары", limit=10))[1] == 1
    assert (await items.search("вебинар", limit=10))[1] == 0
    assert (await items.search("и на", limit=10)) == ([], 0)
    page, total = await items.search("инновационный", limit=1, offset=1)
    assert total == 2 and len(page) == 1


async def test_feedback_is_one_vote_per_subscriber_and_survives_forget(
    engine: Database,
) -> None:
    items = ItemRepository(engine)
    item = await items.add(Item(0, ItemKind.MATERIAL, "Памятка", status=ItemStatus.APPROVED))
    feedback = FeedbackRepository(engine)
    await feedback.record(item.id, 1, useful=True)
    await feedback.record(item.id, 1, useful=False)  # changed their mind
    await feedback.record(item.id, 2, useful=True)
    assert await feedback.counts(item.id) == (1, 1)
    subscribers = SubscriberRepository(engine)
    await subscribers.register(2, name="Анна", username=None, source=None)
    await subscribers.forget(2)
    assert await feedback.counts(item.id) == (1, 1)  # anonymous counts stay
