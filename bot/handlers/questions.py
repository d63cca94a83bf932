"""Questions to the IMC: a subscriber's /ask reaches every editor, an editor's answer reaches
the subscriber. The answer is written in a dialog kept in the database: it survives a restart."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError, TelegramForbiddenError
from aiogram.filters import BaseFilter, Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot import texts
from bot.config import Settings
from bot.services.container import Services
from bot.services.questions import QUESTION_MAX, Ask, Question, Replied, Reply
from bot.telegram import callbacks as cb
from bot.telegram import keyboards as kb
from bot.telegram.render import as_kwargs

log = logging.getLogger(__name__)

ANSWER_MAX = 3500  # leaves room in one message for the heading and the quoted question
LIST_LIMIT = 10


class AskDialog(StatesGroup):
    writing = State()


class AnswerDialog(StatesGroup):
    writing = State()


# --- the subscriber asks -------------------------------------------------------------------------


async def submit_question(
    message: Message,
    text: str,
    state: FSMContext,
    *,
    settings: Settings,
    services: Services,
    follows: int | None = None,
) -> None:
    asked = await services.asking.ask(message.chat.id, text, follows=follows)
    if asked.outcome is Ask.TOO_LONG:
        # The dialog stays open: a shorter version goes in as the next message.
        await state.set_state(AskDialog.writing)
        await message.answer(texts.ASK_TOO_LONG.format(length=len(text), limit=QUESTION_MAX))
        return
    await state.set_state(None)
    if asked.outcome is Ask.NOT_SUBSCRIBED:
        await message.answer(texts.ASK_NOT_SUBSCRIBED)
        return
    if asked.outcome is Ask.TOO_MANY:
        count = texts.count(asked.open_count, "вопрос", "вопроса", "вопросов")
        await message.answer(texts.ASK_TOO_MANY.format(count=count))
        return
    question = asked.question
    assert question is not None
    log.info("question asked: id=%s", question.id)
    await message.answer(texts.ASK_SENT.format(id=question.id))
    if message.bot is not None:
        await _notify_editors(message.bot, question, services)


async def _notify_editors(bot: Bot, question: Question, services: Services) -> None:
    """Every owner and editor gets the question with an «Ответить» button; a reply to an
    answer comes with the question and the answer it follows."""
    earlier = await services.asking.earlier(question)
    content = texts.question_for_editors(
        question.id,
        question.asker_role,
        question.asker_org_kind,
        question.asker_org_name,
        question.text,
        texts.Earlier(earlier.id, earlier.text, earlier.answer or "") if earlier else None,
    )
    for editor_id in await services.asking.team():
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
        await state.set_state(AskDialog.writing)
        await message.answer(texts.ASK_PROMPT, reply_markup=kb.word_prompt(texts.ASK_PLACEHOLDER))
        return
    await submit_question(
        message, text, state,
        settings=settings, services=services,
    )  # fmt: skip


async def question_written(
    message: Message,
    state: FSMContext,
    settings: Settings,
    services: Services,
) -> None:
    await submit_question(
        message, (message.text or "").strip(), state,
        settings=settings, services=services,
    )  # fmt: skip


async def question_not_text(message: Message) -> None:
    await message.answer(texts.ASK_NOT_TEXT)


class RepliesToAnswer(BaseFilter):
    """A text that replies to the bot's message with the IMC's answer: {"answered": question}."""

    async def __call__(self, message: Message, services: Services) -> bool | dict[str, Any]:
        replied = message.reply_to_message
        if replied is None:
            return False
        # Message ids are the chat's own: only the bot's answer has this one.
        question = await services.asking.answered_by_message(message.chat.id, replied.message_id)
        return {"answered": question} if question is not None else False


async def follow_up_written(
    message: Message,
    state: FSMContext,
    answered: Question,
    settings: Settings,
    services: Services,
) -> None:
    await submit_question(
        message, (message.text or "").strip(), state,
        settings=settings, services=services, follows=answered.id,
    )  # fmt: skip


def build_subscriber_router() -> Router:
    router = Router(name="questions")
    router.message.register(ask_command, Command("ask"))
    router.message.register(
        question_written, StateFilter(AskDialog.writing), F.text, ~F.text.startswith("/")
    )
    router.message.register(question_not_text, StateFilter(AskDialog.writing), ~F.text)
    router.message.register(
        follow_up_written, StateFilter(None), F.text, ~F.text.startswith("/"), RepliesToAnswer()
    )
    return router


# --- the editors answer --------------------------------------------------------------------------


async def answer_pressed(
    callback: CallbackQuery,
    callback_data: cb.AnswerQuestion,
    state: FSMContext,
    settings: Settings,
    services: Services,
) -> None:
    can = await services.asking.can_answer(callback_data.question_id)
    if can.outcome is not Reply.RECORDED:
        await callback.answer(_refusal(can, settings), show_alert=True)
        return
    assert can.question is not None
    await state.set_state(AnswerDialog.writing)
    await state.update_data(question_id=can.question.id)
    await callback.answer()
    if callback.message is not None:
        await callback.bot.send_message(  # type: ignore[union-attr]
            callback.message.chat.id, texts.ANSWER_PROMPT.format(id=can.question.id)
        )


def _refusal(replied: Replied, settings: Settings) -> str:
    if replied.outcome is Reply.NOT_FOUND:
        return texts.QUESTION_NOT_FOUND
    if replied.outcome is Reply.ASKER_GONE:
        return texts.QUESTION_ASKER_GONE
    return texts.already_answered(replied.answerer, replied.answered_at, settings.tz)


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
    editor_id = message.from_user.id if message.from_user else message.chat.id
    replied = await services.asking.answer(
        int(data.get("question_id") or 0), text, editor_id, datetime.now(settings.tz)
    )
    question = replied.question
    if replied.outcome is not Reply.RECORDED or question is None or message.bot is None:
        await message.answer(_refusal(replied, settings))
        return
    assert question.chat_id is not None
    content = texts.answer_for_asker(question.text, text)
    try:
        sent = await message.bot.send_message(question.chat_id, **as_kwargs(content))
    except TelegramForbiddenError:
        await message.answer(texts.ANSWER_NOT_DELIVERED.format(id=question.id))
        return
    await services.asking.answer_delivered(question.id, sent.message_id)
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
    router.callback_query.register(answer_pressed, cb.AnswerQuestion.filter())
    router.message.register(
        answer_written, StateFilter(AnswerDialog.writing), F.text, ~F.text.startswith("/")
    )
    router.message.register(answer_not_text, StateFilter(AnswerDialog.writing), ~F.text)
    return router
