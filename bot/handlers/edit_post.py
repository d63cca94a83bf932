"""/edit ID: an editor corrects a published post — in the bot, and if they want, in the messages
already sent (an edit campaign through the delivery engine: bot/storage/campaigns.create_edit).

The new text is stored on the item as soon as it arrives; the buttons only decide whether the
sent messages change too. The state's `version` names the edit, so a double tap or an old
button cannot start it twice.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot import texts
from bot.content.ids import is_number, parse_id
from bot.handlers.common import show
from bot.handlers.new_post import read_post
from bot.services.container import Services
from bot.services.posts import EditCheck, EditStart
from bot.telegram import callbacks as cb
from bot.telegram import keyboards as kb
from bot.telegram.render import as_kwargs

EDIT_SAVED = {
    EditCheck.NOTHING_SENT: texts.EDIT_SAVED_NOTHING_SENT,
    EditCheck.STILL_SENDING: texts.EDIT_SAVED_STILL_SENDING,
    EditCheck.NOT_EDITABLE: texts.EDIT_SAVED_NOT_EDITABLE,
    EditCheck.FOLDED: texts.EDIT_SAVED_FOLDED,
}


class EditPost(StatesGroup):
    number = State()  # a bare /edit (a tap on «/edit 12» in a report sends it so): which post?
    text = State()
    confirm = State()


async def edit_command(
    message: Message, command: CommandObject, state: FSMContext, services: Services
) -> None:
    arg = (command.args or "").strip()
    if not arg:
        await state.clear()
        await state.set_state(EditPost.number)
        await message.answer(
            texts.EDIT_ASK_NUMBER, reply_markup=kb.word_prompt(texts.EDIT_NUMBER_PLACEHOLDER)
        )
        return
    await _open(message, arg, state, services)


async def number_sent(message: Message, state: FSMContext, services: Services) -> None:
    await _open(message, message.text or "", state, services)


async def _open(message: Message, arg: str, state: FSMContext, services: Services) -> None:
    arg = arg.strip().lstrip("№").strip()
    if not is_number(arg):
        # In the number step it stays open: the next message may be the number.
        await message.answer(texts.EDIT_USAGE)
        return
    item_id = parse_id(arg)
    item = await services.items.get(item_id) if item_id is not None else None
    if item is None:
        await message.answer(texts.EDIT_NOT_FOUND.format(item_id=arg[:20]))
        return
    await state.clear()
    await state.set_state(EditPost.text)
    await state.update_data(edit_item=item.id)
    current = texts.edit_current(item.id, item.title, texts.item_text(item))
    await message.answer(**as_kwargs(current))


async def text_sent(
    message: Message,
    state: FSMContext,
    services: Services,
) -> None:
    post = read_post(message, texts.EDIT_TOO_LONG)
    if isinstance(post, str):
        await message.answer(post)
        return
    title, body, body_entities = post
    item_id = int((await state.get_data())["edit_item"])
    edited = await services.posts.edit_text(item_id, title, body, body_entities, datetime.now(UTC))
    if edited.item is None:
        await state.clear()
        await message.answer(texts.EDIT_NOT_FOUND_ANYMORE)
        return
    fields = {"item_id": edited.item.id, "title": edited.item.title}
    if edited.check is not EditCheck.ASK:
        await state.clear()
        await message.answer(EDIT_SAVED[edited.check].format(**fields))
        return
    version = time.time_ns() // 1000
    await state.set_state(EditPost.confirm)
    await state.update_data(edit_item=edited.item.id, edit_version=version)
    await message.answer(
        texts.EDIT_SAVED_ASK.format(count=edited.sent, **fields),
        reply_markup=kb.edit_sent(edited.item.id, version, edited.sent),
    )


async def choice_made(
    callback: CallbackQuery,
    callback_data: cb.EditSent,
    state: FSMContext,
    services: Services,
) -> None:
    data = await state.get_data()
    if (data.get("edit_item"), data.get("edit_version")) != (
        callback_data.item_id,
        callback_data.version,
    ):
        await stale_button(callback)
        return
    await state.clear()
    await callback.answer()
    item_id = callback_data.item_id
    if not callback_data.everywhere:
        await show(callback, texts.EDIT_BOT_ONLY_DONE.format(item_id=item_id))
        return
    started = await services.posts.edit_sent(
        item_id, callback_data.version, callback.from_user.id, datetime.now(UTC)
    )
    if started.outcome is EditStart.NOT_FOUND:
        await show(callback, texts.EDIT_NOT_FOUND_ANYMORE)
    elif started.outcome is EditStart.ALREADY_STARTED:
        await show(callback, texts.EDIT_ALREADY_STARTED)
    else:
        await show(callback, texts.EDIT_SENT_STARTED.format(count=started.total))


async def stale_button(callback: CallbackQuery) -> None:
    await callback.answer(texts.STALE_BUTTON, show_alert=True)


def build_router() -> Router:
    router = Router(name="edit-post")
    router.message.register(edit_command, Command("edit"))
    router.message.register(
        number_sent, StateFilter(EditPost.number), F.text, ~F.text.startswith("/")
    )
    router.message.register(text_sent, StateFilter(EditPost.text), ~(F.text.startswith("/")))
    router.callback_query.register(
        choice_made, StateFilter(EditPost.confirm), cb.EditSent.filter()
    )
    router.callback_query.register(stale_button, cb.EditSent.filter())
    return router
