"""Questions to the IMC: a subscriber's limits, and one answer per question."""

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.config import load_settings
from bot.services.container import Services, build_services
from bot.services.questions import Ask, Reply
from bot.storage.database import Database
from bot.storage.db import create_engine, migrate
from bot.storage.questions import OPEN_QUESTIONS_MAX, QUESTION_MAX
from tests.support.databases import scratch_url
from tests.support.subscribers import subscriber

MSK = ZoneInfo("Europe/Moscow")
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=MSK)
OWNER, EDITOR, ASKER = 9000, 9001, 1


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Database]:
    engine = create_engine(scratch_url(tmp_path, "q"))
    await migrate(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
async def services(tmp_path: Path, engine: Database) -> Services:
    settings = load_settings(
        database_url=scratch_url(tmp_path, "q"), admin_ids=(OWNER,), _env_file=None
    )
    services = build_services(settings, engine)
    await subscriber(services.subscribers, ASKER)
    await services.editors.add(EDITOR, "Мария Петровна", added_by=OWNER)
    await services.editors.add(OWNER, "Владелец", added_by=OWNER)
    return services


async def test_a_question_needs_a_subscriber_and_fits_the_limits(services: Services) -> None:
    assert (await services.asking.ask(404, "Когда семинар?")).outcome is Ask.NOT_SUBSCRIBED
    too_long = await services.asking.ask(ASKER, "в" * (QUESTION_MAX + 1))
    assert too_long.outcome is Ask.TOO_LONG
    for n in range(OPEN_QUESTIONS_MAX):
        asked = await services.asking.ask(ASKER, f"Вопрос {n}")
        assert asked.outcome is Ask.SENT and asked.question is not None
    over = await services.asking.ask(ASKER, "Ещё один")
    assert (over.outcome, over.open_count) == (Ask.TOO_MANY, OPEN_QUESTIONS_MAX)


async def test_the_team_gets_each_question_once(services: Services) -> None:
    assert await services.asking.team() == [OWNER, EDITOR]


async def test_the_second_editor_to_answer_learns_who_was_first(services: Services) -> None:
    asked = await services.asking.ask(ASKER, "Когда экспертный совет?")
    assert asked.question is not None
    question_id = asked.question.id
    assert (await services.asking.can_answer(question_id)).outcome is Reply.RECORDED
    first = await services.asking.answer(question_id, "В марте.", EDITOR, NOW)
    assert first.outcome is Reply.RECORDED
    assert first.question is not None and first.question.chat_id == ASKER
    second = await services.asking.answer(question_id, "В апреле.", OWNER, NOW)
    assert (second.outcome, second.answerer) == (Reply.ALREADY_ANSWERED, "Мария Петровна")
    pressed = await services.asking.can_answer(question_id)
    assert (pressed.outcome, pressed.answerer) == (Reply.ALREADY_ANSWERED, "Мария Петровна")
    stored = await services.questions.get(question_id)
    assert stored is not None and stored.answer == "В марте."
    assert (await services.asking.can_answer(404)).outcome is Reply.NOT_FOUND
