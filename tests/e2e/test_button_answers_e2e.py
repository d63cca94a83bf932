"""Every press of a main button is answered at once — before the message is edited or a new
one is sent — and exactly once (Telegram expires a press it had no answer to in ~15 s)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import CallbackQuery, TelegramObject

from bot.content.models import Item, ItemKind, ItemStatus
from bot.storage.items import ItemRepository
from bot.telegram.middlewares import CallbackAnswers
from tests.support.emulator import BotAPIEmulator
from tests.support.harness import EDITOR_ID, TOKEN, Person, RunningBot, agree

# The calls that show the press's result in the chat: the slow work an answer must not wait for.
VISIBLE = frozenset(
    {"sendMessage", "editMessageText", "editMessageReplyMarkup", "sendDocument", "sendPhoto"}
)


async def press(
    running_bot: RunningBot, person: Person, message: dict[str, Any], label: str, expect: str
) -> dict[str, Any]:
    """Tap the button; check its answer came once and before what the press shows."""
    emu = running_bot.emu
    first = len(emu.calls)
    answer, shown = await person.tap(message, label, expect=expect)
    query_id = str(answer.params["callback_query_id"])
    await running_bot.handled(
        lambda u: u.callback_query is not None and u.callback_query.id == query_id
    )
    calls = emu.calls[first:]
    answers = [
        n
        for n, c in enumerate(calls)
        if c.method == "answerCallbackQuery" and str(c.params["callback_query_id"]) == query_id
    ]
    assert len(answers) == 1, (label, answers)
    shows = [n for n, c in enumerate(calls) if c.method in VISIBLE and c.chat_id == person.id]
    if expect != "answer":
        assert shows, label
    assert all(answers[0] < n for n in shows), (label, [c.method for c in calls])
    return shown


async def test_onboarding_and_settings_buttons_are_answered_first(
    running_bot: RunningBot,
) -> None:
    teacher = running_bot.person(1801, "Анна")
    message = await agree(teacher)
    for label in ("Педагог", "Школа", "Пропустить", "Опыт площадок", "Готово", "Раз в неделю"):
        message = await press(running_bot, teacher, message, label, "edit")

    sections = ("Роль", "Организация:", "Название:", "Темы", "Дайджест:", "Закрыть")
    for label in sections:
        menu = await teacher.say_one("/settings")
        await press(running_bot, teacher, menu, label, "edit")
    menu = await teacher.say_one("/settings")
    await press(running_bot, teacher, menu, "Поделиться", "send")
    menu = await teacher.say_one("/settings")
    shown = await press(running_bot, teacher, menu, "Роль", "edit")
    shown = await press(running_bot, teacher, shown, "Методист", "edit")
    shown = await press(running_bot, teacher, shown, "Приостановить", "edit")
    await press(running_bot, teacher, shown, "Да, приостановить", "edit")
    menu = await teacher.say_one("/settings")
    await press(running_bot, teacher, menu, "Возобновить", "edit")


async def test_browsing_buttons_are_answered_first(running_bot: RunningBot) -> None:
    items = ItemRepository(running_bot.engine)
    tz = running_bot.settings.tz
    soon = datetime.now(tz).replace(hour=10, minute=0, second=0, microsecond=0)
    for day in range(1, 8):
        await items.add(
            Item(0, ItemKind.EVENT, f"Семинар {day}", status=ItemStatus.APPROVED,
                 starts_at=soon + timedelta(days=day))
        )  # fmt: skip
    for n in range(2):
        await items.add(
            Item(0, ItemKind.MATERIAL, f"Сборник {n}", status=ItemStatus.APPROVED,
                 approved_at=soon - timedelta(days=n + 1), body="Опыт школ.")
        )  # fmt: skip
    teacher = running_bot.person(1802, "Анна")
    message = await agree(teacher)
    for label in ("Педагог", "Школа", "Пропустить", "Готово", "Раз в неделю"):
        message = await press(running_bot, teacher, message, label, "edit")

    answer = await teacher.say_one("/next")
    await press(running_bot, teacher, answer, "Напомнить: 1", "answer")
    await press(running_bot, teacher, answer, "В календарь: 1", "send")
    await press(running_bot, teacher, answer, "Ещё ▸", "edit")
    card = await teacher.say_one("/materials")
    card = await press(running_bot, teacher, card, "Ещё ▸", "edit")
    await press(running_bot, teacher, card, "Полезно", "answer")


async def test_queue_buttons_are_answered_first(running_bot: RunningBot) -> None:
    items = ItemRepository(running_bot.engine)
    for n in range(3):
        await items.add(
            Item(0, ItemKind.ANNOUNCEMENT, f"Черновик {n}", body="Текст.", author_id=EDITOR_ID)
        )
    editor = running_bot.person(EDITOR_ID, "Редактор")
    card = await editor.say_one("/queue")
    card = await press(running_bot, editor, card, "▸", "edit")
    card = await press(running_bot, editor, card, "Удалить", "edit")
    card = await press(running_bot, editor, card, "Да, удалить", "edit")
    await press(running_bot, editor, card, "Перенести", "send")


# --- the guard: a press no handler answered in time, or at all ----------------------------------


@pytest.fixture
async def bot(emu: BotAPIEmulator) -> AsyncIterator[Bot]:
    session = AiohttpSession(api=TelegramAPIServer.from_base(emu.base_url))
    bot = Bot(TOKEN, session=session)
    yield bot
    await bot.session.close()


def pressed(emu: BotAPIEmulator, bot: Bot, user_id: int) -> CallbackQuery:
    message = emu.send_message(user_id, "привет")
    emu.press(user_id, message, "s1:menu")
    return CallbackQuery.model_validate(emu.updates[-1]["callback_query"], context={"bot": bot})


async def test_a_press_its_handler_is_slow_on_is_answered_and_the_late_alert_still_shown(
    emu: BotAPIEmulator, bot: Bot
) -> None:
    answers = CallbackAnswers(within=0)  # the handler is "slow" from its first moment
    answers.install(bot)
    query = pressed(emu, bot, 1901)

    async def slow(event: TelegramObject, data: dict[str, Any]) -> None:
        await emu.answer_to(query.id)  # the guard answered while the handler worked
        await query.answer("Напоминание добавлено.", show_alert=True)
        await query.answer("Сохранено")

    await answers(slow, query, {"bot": bot})
    [answer] = emu.calls_of("answerCallbackQuery")
    assert answer.ok and answer.params.get("text") is None
    late = await emu.next_message(1901)
    assert late["text"] == "Напоминание добавлено."  # the alert as a message; the toast dropped
    assert [c.params["text"] for c in emu.calls_of("sendMessage")] == ["Напоминание добавлено."]


async def test_a_press_its_handler_never_answered_is_answered_once(
    emu: BotAPIEmulator, bot: Bot
) -> None:
    answers = CallbackAnswers()
    answers.install(bot)
    answers.install(bot)  # installing twice watches once
    query = pressed(emu, bot, 1902)

    async def silent(event: TelegramObject, data: dict[str, Any]) -> str:
        return "done"

    assert await answers(silent, query, {"bot": bot}) == "done"
    [answer] = emu.calls_of("answerCallbackQuery")
    assert answer.ok

    second = pressed(emu, bot, 1902)

    async def answering(event: TelegramObject, data: dict[str, Any]) -> None:
        await second.answer("Сохранено")

    await answers(answering, second, {"bot": bot})
    assert [c.params.get("text") for c in emu.calls_of("answerCallbackQuery")] == [
        None,
        "Сохранено",
    ]
    assert all(c.ok for c in emu.calls_of("answerCallbackQuery"))
