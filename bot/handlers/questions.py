"""Questions to the IMC: a subscriber's /ask reaches every editor, an editor's answer reaches
the subscriber. The answer is written in a dialog kept in the database: it survives a restart."""

from __future__ import annotations

import logging
from datetime import datetime

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError, TelegramForbiddenError
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot import texts
from bot.config import Settings
from bot.services.container import Services
from bot.storage.questions import (
    OPEN_QUESTIONS_MAX,
    QUESTION_MAX,
    Question,
)
from bot.telegram import keyboards as kb
from bot.telegram.render import as_kwargs

log = logging.getLogger(__name__)

ANSWER_MAX = 3500  # leaves room in one message for the heading and the quoted question
LIST_LIMIT = 10


class Ask(StatesGroup):
    writing = State()


class Answer(StatesGroup):
    writing = State()


# --- the subscriber asks -------------------------------------------------------------------------


async def _submit(
    message: Message,
    text: str,
    state: FSMContext,
    *,
    settings: Settings,
    services: Services,
) -> None:
    chat_id = message.chat.id
    subscriber = await services.subscribers.get(chat_id)
    if subscriber is None:
        await state.set_state(None)
        await message.answer(texts.ASK_NOT_SUBSCRIBED)
        return
    if len(text) > QUESTION_MAX:
        # The dialog stays open: a shorter version goes in as the next message.
        await state.set_state(Ask.writing)
        await message.answer(texts.ASK_TOO_LONG.format(length=len(text), limit=QUESTION_MAX))
        return
    open_count = await services.questions.open_count(chat_id)
    if open_count >= OPEN_QUESTIONS_MAX:
        await state.set_state(None)
        count = texts.count(open_count, "вопрос", "вопроса", "вопросов")
        await message.answer(texts.ASK_TOO_MANY.format(count=count))
        return
    await state.set_state(None)
    question = await services.questions.add(
        chat_id, text, subscriber.role, subscriber.org_kind, subscriber.org_name
    )
    log.info("question asked: id=%s", question.id)
    await message.answer(texts.ASK_SENT.format(id=question.id))
    if message.bot is not None:
        await _notify_editors(message.bot, question, settings, services)


async def _notify_editors(
    bot: Bot, question: Question, settings: Settings, services: Services
) -> None:
    """Every owner and editor gets the question with an «Ответить» button."""
    content = texts.question_for_editors(
        question.id,
        question.asker_role,
        question.asker_org_kind,
        question.asker_org_name,
        question.text,
    )
    team = dict.fromkeys([*settings.admin_ids, *(e.user_id for e in await services.editors.all())])
    for editor_id in team:
        try:
            await bot.send_message(
                editor_id, **as_kwargs(content), reply_markup=kb.answer_question(question.id)
            )
        except TelegramAPIError as exc:
            # An editor who never opened the bot can't be written to; /questions lists it.
            log.warning("question not sent to editor=%s: %s", editor_id, type(exc).__name__)


async def ask_command(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    settings: Settings,
    services: Services,
) -> None:
    text = (command.args or "").strip()
    if not text:
        if await services.subscribers.get(message.chat.id) is None:
            await message.answer(texts.ASK_NOT_SUBSCRIBED)
            return
        await state.set_state(Ask.writing)
        await message.answer(texts.ASK_PROMPT)
        return
    await _submit(
        message, text, state,
        settings=settings, services=services,
    )  # fmt: skip


async def question_written(
    message: Message,
    state: FSMContext,
    settings: Settings,
    services: Services,
) -> None:
    await _submit(
        message, (message.text or "").strip(), state,
        settings=settings, services=services,
    )  # fmt: skip


async def question_not_text(message: Message) -> None:
    await message.answer(texts.ASK_NOT_TEXT)


def build_subscriber_router() -> Router:
    router = Router(name="questions")
    router.message.register(ask_command, Command("ask"))
    router.message.register(
        question_written, StateFilter(Ask.writing), F.text, ~F.text.startswith("/")
    )
    router.message.register(question_not_text, StateFilter(Ask.writing), ~F.text)
    return router


# --- the editors answer --------------------------------------------------------------------------


async def _answerer_name(user_id: int, settings: Settings, services: Services) -> str:
    for editor in await services.editors.all():
        if editor.user_id == user_id and editor.name:
            return editor.name
    subscriber = await services.subscribers.get(user_id)
    if subscriber is not None and subscriber.name:
        return subscriber.name
    return f"редактор {user_id}"


async def answer_pressed(
    callback: CallbackQuery,
    callback_data: kb.AnswerQuestion,
    state: FSMContext,
    settings: Settings,
    services: Services,
) -> None:
    question = await services.questions.get(callback_data.question_id)
    if question is None:
        await callback.answer(texts.QUESTION_NOT_FOUND, show_alert=True)
        return
    if question.answered_by is not None:
        name = await _answerer_name(question.answered_by, settings, services)
        await callback.answer(
            texts.already_answered(name, question.answered_at, settings.tz), show_alert=True
        )
        return
    if question.chat_id is None:
        await callback.answer(texts.QUESTION_ASKER_GONE, show_alert=True)
        return
    await state.set_state(Answer.writing)
    await state.update_data(question_id=question.id)
    await callback.answer()
    if callback.message is not None:
        await callback.bot.send_message(  # type: ignore[union-attr]
            callback.message.chat.id, texts.ANSWER_PROMPT.format(id=question.id)
        )


async def answer_written(
    message: Message,
    state: FSMContext,
    settings: Settings,
    services: Services,
) -> None:
    text = (message.text or "").strip()
    if len(text) > ANSWER_MAX:
        await message.answer(texts.ANSWER_TOO_LONG.format(length=len(text), limit=ANSWER_MAX))
        return
    data = await state.get_data()
    await state.set_state(None)
    await state.update_data(question_id=None)
    question = await services.questions.get(int(data.get("question_id") or 0))
    if question is None:
        await message.answer(texts.QUESTION_NOT_FOUND)
        return
    editor_id = message.from_user.id if message.from_user else message.chat.id
    if not await services.questions.answer(
        question.id, text, editor_id, datetime.now(settings.tz)
    ):
        fresh = await services.questions.get(question.id)
        by = fresh.answered_by if fresh and fresh.answered_by is not None else editor_id
        name = await _answerer_name(by, settings, services)
        await message.answer(
            texts.already_answered(name, fresh.answered_at if fresh else None, settings.tz)
        )
        return
    if question.chat_id is None or message.bot is None:
        await message.answer(texts.QUESTION_ASKER_GONE)
        return
    content = texts.answer_for_asker(question.text, text)
    try:
        await message.bot.send_message(question.chat_id, **as_kwargs(content))
    except TelegramForbiddenError:
        await message.answer(texts.ANSWER_NOT_DELIVERED.format(id=question.id))
        return
    log.info("question answered: id=%s editor=%s", question.id, editor_id)
    await message.answer(texts.ANSWER_SENT.format(id=question.id))


async def answer_not_text(message: Message) -> None:
    await message.answer(texts.ANSWER_NOT_TEXT)


async def questions_command(message: Message, services: Services) -> None:
    waiting = await services.questions.open_questions(LIST_LIMIT)
    if not waiting:
        await message.answer(texts.QUESTIONS_NONE)
        return
    entries = [
        (q.id, texts.asker_line(q.asker_role, q.asker_org_kind, q.asker_org_name), q.text)
        for q in waiting
    ]
    await message.answer(
        **as_kwargs(texts.questions_list(entries)),
        reply_markup=kb.open_questions([q.id for q in waiting]),
    )


def build_editor_router() -> Router:
    router = Router(name="questions-editors")
    router.message.register(questions_command, Command("questions"))
    router.callback_query.register(answer_pressed, kb.AnswerQuestion.filter())
    router.message.register(
        answer_written, StateFilter(Answer.writing), F.text, ~F.text.startswith("/")
    )
    router.message.register(answer_not_text, StateFilter(Answer.writing), ~F.text)
    return router
