"""/edit ID: an editor corrects a published post — in the bot, and if they want, in the messages
already sent (an edit campaign through the delivery engine: bot/storage/campaigns.create_edit).

The new text is stored on the item as soon as it arrives; the buttons only decide whether the
sent messages change too. The state's `version` names the edit, so a double tap or an old
button cannot start it twice.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from datetime import UTC, datetime

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot import texts
from bot.config import Settings
from bot.content.models import CampaignStatus
from bot.handlers.common import show
from bot.handlers.new_post import read_post
from bot.services.container import Services
from bot.services.publishing import edit_part, post_keys
from bot.telegram import keyboards as kb
from bot.telegram.render import as_kwargs


class EditPost(StatesGroup):
    text = State()
    confirm = State()


async def edit_command(
    message: Message, command: CommandObject, state: FSMContext, services: Services
) -> None:
    arg = (command.args or "").strip().lstrip("№").strip()
    if not arg.isdigit():
        await message.answer(texts.EDIT_USAGE)
        return
    item = await services.items.get(int(arg))
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
    settings: Settings,
) -> None:
    post = read_post(message, texts.EDIT_TOO_LONG)
    if isinstance(post, str):
        await message.answer(post)
        return
    title, body, body_entities = post
    item = await services.items.get(int((await state.get_data())["edit_item"]))
    if item is None:
        await state.clear()
        await message.answer(texts.EDIT_NOT_FOUND_ANYMORE)
        return
    edited = replace(
        item,
        title=title,
        body=body,
        body_entities=json.dumps(body_entities, ensure_ascii=False) if body_entities else None,
    )
    item = await services.items.update(edited, datetime.now(UTC))
    count = await services.publisher.campaigns.sent_messages(post_keys(item.id))
    fields = {"item_id": item.id, "title": item.title}
    if count == 0:
        await state.clear()
        await message.answer(texts.EDIT_SAVED_NOTHING_SENT.format(**fields))
        return
    if await _still_sending(services, item.id):
        await state.clear()
        await message.answer(texts.EDIT_SAVED_STILL_SENDING.format(**fields))
        return
    sent_parts = await services.publisher.campaigns.variant_count(post_keys(item.id)[0])
    if edit_part(item, settings.tz, sent_parts) is None:
        await state.clear()
        await message.answer(texts.EDIT_SAVED_NOT_EDITABLE.format(**fields))
        return
    version = time.time_ns() // 1000
    await state.set_state(EditPost.confirm)
    await state.update_data(edit_item=item.id, edit_version=version)
    await message.answer(
        texts.EDIT_SAVED_ASK.format(count=count, **fields),
        reply_markup=kb.edit_sent(item.id, version, count),
    )


async def _still_sending(services: Services, item_id: int) -> bool:
    """The post is still going out: its queued messages would carry the old text (the sender
    holds a campaign's parts), so the sent ones are edited only after its report."""
    for key in post_keys(item_id):
        campaign = await services.publisher.campaigns.get_by_key(key)
        if campaign is not None and campaign.status in (
            CampaignStatus.SENDING,
            CampaignStatus.PAUSED,
        ):
            return True
    return False


async def choice_made(
    callback: CallbackQuery,
    callback_data: kb.EditSent,
    state: FSMContext,
    services: Services,
    settings: Settings,
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
    item = await services.items.get(item_id)
    keys = post_keys(item_id)
    part = (
        edit_part(item, settings.tz, await services.publisher.campaigns.variant_count(keys[0]))
        if item is not None
        else None
    )
    if item is None or part is None:
        await show(callback, texts.EDIT_NOT_FOUND_ANYMORE)
        return
    editor = callback.from_user.id
    campaign = await services.publisher.campaigns.create_edit(
        f"edit:{item_id}:{callback_data.version}", item.title, part, keys,
        item_id=item_id, created_by=editor, progress_chat_id=editor, now=datetime.now(UTC),
    )  # fmt: skip
    if campaign is None:
        await show(callback, texts.EDIT_ALREADY_STARTED)
        return
    await show(callback, texts.EDIT_SENT_STARTED.format(count=campaign.total))
    services.wake()


async def stale_button(callback: CallbackQuery) -> None:
    await callback.answer(texts.STALE_BUTTON, show_alert=True)


def build_router() -> Router:
    router = Router(name="edit-post")
    router.message.register(edit_command, Command("edit"))
    router.message.register(text_sent, StateFilter(EditPost.text), ~(F.text.startswith("/")))
    router.callback_query.register(
        choice_made, StateFilter(EditPost.confirm), kb.EditSent.filter()
    )
    router.callback_query.register(stale_button, kb.EditSent.filter())
    return router
