"""/queue: the editors' moderation queue — the feeds' new items, drafts and scheduled posts,
one card at a time, each shown exactly as subscribers would get it."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, MessageEntity

from bot import texts
from bot.config import Settings
from bot.content.digest import MESSAGE_LIMIT, truncate_part
from bot.content.formatting import Text
from bot.content.models import Item, ItemKind, ItemStatus
from bot.handlers.common import drop_keyboard, show
from bot.services.container import Services
from bot.services.moderation import (
    TITLE_LIMIT,
    Move,
    Reschedule,
    Retitle,
    Rewrite,
    approvable,
    in_queue,
)
from bot.services.posts import QueuePublish
from bot.telegram import callbacks as cb
from bot.telegram import keyboards as kb
from bot.telegram.callbacks import QueueAction
from bot.telegram.render import as_kwargs


class QueueEdit(StatesGroup):
    text = State()
    time = State()
    title = State()


def _entities_json(entities: list[MessageEntity] | None) -> str | None:
    if not entities:
        return None
    return json.dumps([e.model_dump(exclude_none=True) for e in entities], ensure_ascii=False)


async def _card(
    services: Services,
    settings: Settings,
    index: int,
    *,
    confirm: QueueAction | None = None,
    kinds: bool = False,
) -> tuple[Text, InlineKeyboardMarkup | None]:
    counts = await services.queue.counts()
    if counts.total == 0:
        return Text(texts.QUEUE_EMPTY), None
    index = max(0, min(index, counts.total - 1))
    item = await services.queue.at(index)
    if item is None:  # the queue shrank between the two queries
        index, item = 0, await services.queue.at(0)
        if item is None:
            return Text(texts.QUEUE_EMPTY), None
    question, yes = _question(confirm, kinds)
    line = texts.queue_counts(counts.pending, counts.drafts, counts.scheduled)
    content = texts.queue_card(index, counts.total, line, item, settings.tz, question)
    # A long feed item can outgrow one message with the heading on top: show what fits.
    part = truncate_part(texts.message_part(content), MESSAGE_LIMIT)
    content = Text.from_entities(part.text, part.entities)
    if kinds:
        return content, kb.queue_kinds(item.id, index, item.kind)
    if confirm is not None:
        return content, kb.queue_confirm(confirm, item.id, index, yes)
    markup = kb.queue_card(item.id, index, counts.total, approvable(item), kind=item.kind)
    return content, markup


def _question(confirm: QueueAction | None, kinds: bool) -> tuple[str | None, str | None]:
    """The card's question and its «yes» button: a confirmation or the kinds to pick from."""
    if kinds:
        return texts.QUEUE_KIND_QUESTION, None
    if confirm is QueueAction.APPROVE:  # only an announcement's approval asks first
        return texts.QUEUE_CONFIRM_ANNOUNCEMENT
    if confirm is not None:
        return texts.QUEUE_CONFIRM[confirm.value]
    return None, None


async def _send_card(
    bot: Bot, chat_id: int, services: Services, settings: Settings, index: int
) -> None:
    content, markup = await _card(services, settings, index)
    await bot.send_message(chat_id, **as_kwargs(content), reply_markup=markup)


async def queue_command(message: Message, services: Services, settings: Settings) -> None:
    content, markup = await _card(services, settings, 0)
    await message.answer(**as_kwargs(content), reply_markup=markup)


async def open_card(
    callback: CallbackQuery, callback_data: cb.QueueCard, services: Services, settings: Settings
) -> None:
    await callback.answer()
    content, markup = await _card(services, settings, callback_data.index)
    await show(callback, content, markup)


async def _stale(callback: CallbackQuery, status: ItemStatus | None) -> None:
    """Someone else moved the item first: say where it is now."""
    if status is None:
        await callback.answer(texts.ITEM_GONE, show_alert=True)
        return
    done = texts.QUEUE_STATUS_DONE[status]
    await callback.answer(texts.QUEUE_STALE.format(status=done), show_alert=True)


async def _publish(callback: CallbackQuery, services: Services, item_id: int) -> bool:
    now = datetime.now(UTC)
    published = await services.posts.publish_from_queue(item_id, callback.from_user.id, now)
    if published.outcome in (QueuePublish.STALE, QueuePublish.ALREADY_PUBLISHED):
        await _stale(callback, published.status)
        return published.outcome is QueuePublish.ALREADY_PUBLISHED
    if published.outcome is QueuePublish.NOBODY:
        await callback.answer(texts.QUEUE_PUBLISHED_NOBODY, show_alert=True)
    else:
        await callback.answer(texts.QUEUE_PUBLISHING.format(total=published.total))
    return True


async def act(
    callback: CallbackQuery,
    callback_data: cb.QueueDo,
    state: FSMContext,
    services: Services,
    settings: Settings,
) -> None:
    queue = services.queue
    action, item_id, index = callback_data.action, callback_data.item_id, callback_data.index
    item = await queue.get(item_id)
    if item is None or not in_queue(item):
        await _stale(callback, item.status if item else None)
        return
    if action in (QueueAction.EDIT, QueueAction.MOVE, QueueAction.TITLE):
        await _ask(callback, state, item, index, action, settings)
        return
    if action is QueueAction.KIND:
        content, markup = await _card(services, settings, index, kinds=True)
        await callback.answer()
        await show(callback, content, markup)
        return
    # Announcements never go into a digest: approving one sends it out, after a question.
    sends = action is QueueAction.APPROVE and item.kind is ItemKind.ANNOUNCEMENT
    if (action in cb.QUEUE_CONFIRMED or sends) and not callback_data.sure:
        content, markup = await _card(services, settings, index, confirm=action)
        await callback.answer()
        await show(callback, content, markup)
        return
    if action is QueueAction.PUBLISH or sends:
        if not await _publish(callback, services, item_id):
            return
    else:
        moved = await services.moderation.move(Move(action.value), item_id, datetime.now(UTC))
        if not moved.done:
            await _stale(callback, moved.status)
            return
        await callback.answer(texts.QUEUE_DONE[action.value])
    # The item left the queue: the same place now shows the next one.
    content, markup = await _card(services, settings, index)
    await show(callback, content, markup)


async def _ask(
    callback: CallbackQuery,
    state: FSMContext,
    item: Item,
    index: int,
    action: QueueAction,
    settings: Settings,
) -> None:
    card_id = callback.message.message_id if callback.message is not None else None
    states = {QueueAction.EDIT: QueueEdit.text, QueueAction.TITLE: QueueEdit.title}
    await state.set_state(states.get(action, QueueEdit.time))
    await state.set_data({"item_id": item.id, "index": index, "card_id": card_id})
    await callback.answer()
    if action is QueueAction.TITLE:
        await callback.bot.send_message(  # type: ignore[union-attr]
            callback.from_user.id,
            texts.QUEUE_ASK_TITLE.format(title=item.title),
            reply_markup=kb.word_prompt(texts.QUEUE_TITLE_PLACEHOLDER),
        )
        return
    if action is QueueAction.EDIT:
        prompt = texts.QUEUE_ASK_TEXT.format(title=item.title)
    else:
        prompt = texts.QUEUE_ASK_TIME.format(title=item.title, tz=settings.timezone)
    await callback.bot.send_message(callback.from_user.id, prompt)  # type: ignore[union-attr]


async def _after_change(
    message: Message, state: FSMContext, services: Services, settings: Settings, done: str
) -> None:
    """The answer, then the item's card afresh; the old card loses its buttons."""
    data = await state.get_data()
    await state.clear()
    bot = message.bot
    assert bot is not None
    await message.answer(done)
    await drop_keyboard(bot, message.chat.id, data.get("card_id"))
    index = await services.queue.index_of(int(data["item_id"]))
    await _send_card(bot, message.chat.id, services, settings, index or 0)


async def _still_queued(message: Message, state: FSMContext, services: Services) -> Item | None:
    data = await state.get_data()
    item = await services.queue.get(int(data.get("item_id", 0)))
    if item is None or not in_queue(item):
        await state.clear()
        status = texts.QUEUE_STATUS_DONE[item.status] if item else None
        await message.answer(
            texts.QUEUE_STALE.format(status=status) if status else texts.ITEM_GONE
        )
        return None
    return item


async def new_text(
    message: Message, state: FSMContext, services: Services, settings: Settings
) -> None:
    item = await _still_queued(message, state, services)
    if item is None:
        return
    if not message.text:
        await message.answer(texts.QUEUE_TEXT_NOT_TEXT)
        return
    entities = _entities_json(message.entities)
    now = datetime.now(settings.tz)
    rewritten = await services.moderation.rewrite(item, message.text, entities, now)
    if rewritten.outcome is Rewrite.TOO_LONG:
        length = rewritten.length
        await message.answer(
            texts.QUEUE_TEXT_TOO_LONG.format(
                length=length, limit=MESSAGE_LIMIT, over=length - MESSAGE_LIMIT
            )
        )
        return
    if rewritten.outcome is Rewrite.STALE:
        await _still_queued(message, state, services)
        return
    saved_as_draft = rewritten.outcome is Rewrite.SAVED_AS_DRAFT
    done = texts.QUEUE_TEXT_SAVED_DRAFT if saved_as_draft else texts.QUEUE_TEXT_SAVED
    await _after_change(message, state, services, settings, done)


async def new_time(
    message: Message, state: FSMContext, services: Services, settings: Settings
) -> None:
    item = await _still_queued(message, state, services)
    if item is None:
        return
    now = datetime.now(settings.tz)
    moved = await services.moderation.reschedule(item.id, message.text or "", now)
    if moved.outcome is Reschedule.NOT_A_TIME:
        await message.answer(texts.QUEUE_TIME_BAD)
    elif moved.outcome is Reschedule.IN_THE_PAST:
        await message.answer(texts.QUEUE_TIME_PAST)
    elif moved.outcome is Reschedule.STALE:
        await _still_queued(message, state, services)
    else:
        assert moved.moment is not None
        done = texts.QUEUE_MOVED.format(when=texts.format_date(moved.moment))
        await _after_change(message, state, services, settings, done)


# --- /queue: a feed item's kind and title ---


async def set_kind(
    callback: CallbackQuery,
    callback_data: cb.QueueSetKind,
    services: Services,
    settings: Settings,
) -> None:
    item_id, kind = callback_data.item_id, callback_data.kind
    now = datetime.now(UTC)
    changed = await services.moderation.change_kind(item_id, callback_data.was, kind, now)
    if not changed.done:
        item = changed.item
        if item is None or not in_queue(item):
            await _stale(callback, item.status if item else None)
            return
        # Another editor picked a kind first: say which, and show the card as it is now.
        name = texts.queue_kind_name(item.kind)
        await callback.answer(texts.QUEUE_KIND_STALE.format(kind=name), show_alert=True)
    elif changed.undated_event:
        await callback.answer(texts.QUEUE_KIND_UNDATED, show_alert=True)
    else:
        await callback.answer(texts.QUEUE_KIND_DONE.format(kind=texts.queue_kind_name(kind)))
    index = await services.queue.index_of(item_id)
    content, markup = await _card(
        services, settings, callback_data.index if index is None else index
    )
    await show(callback, content, markup)


async def new_title(
    message: Message, state: FSMContext, services: Services, settings: Settings
) -> None:
    item = await _still_queued(message, state, services)
    if item is None:
        return
    retitled = await services.moderation.retitle(item, message.text or "", datetime.now(UTC))
    if retitled.outcome is Retitle.EMPTY:
        await message.answer(texts.QUEUE_TITLE_EMPTY)
    elif retitled.outcome is Retitle.TOO_LONG:
        await message.answer(texts.QUEUE_TITLE_TOO_LONG.format(limit=TITLE_LIMIT))
    elif retitled.outcome is Retitle.STALE:
        await _still_queued(message, state, services)
    else:
        as_draft = retitled.outcome is Retitle.SAVED_AS_DRAFT
        done = texts.QUEUE_TITLE_SAVED_DRAFT if as_draft else texts.QUEUE_TITLE_SAVED
        await _after_change(message, state, services, settings, done)


def build_router() -> Router:
    router = Router(name="queue")
    router.message.register(queue_command, Command("queue"))
    not_command = ~F.text.startswith("/")
    router.message.register(new_text, StateFilter(QueueEdit.text), not_command)
    router.message.register(new_time, StateFilter(QueueEdit.time), not_command)
    router.message.register(new_title, StateFilter(QueueEdit.title), not_command)
    router.callback_query.register(open_card, cb.QueueCard.filter())
    router.callback_query.register(act, cb.QueueDo.filter())
    router.callback_query.register(set_kind, cb.QueueSetKind.filter())
    return router
