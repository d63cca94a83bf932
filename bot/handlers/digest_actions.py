"""What a digest's links and buttons do: an entry's title opens its card (`?start=item_<id>`);
the last row opens the settings, pauses the subscription, and undoes the pause in place."""

from __future__ import annotations

import logging
import re
from contextlib import suppress
from datetime import datetime

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import CommandObject, CommandStart
from aiogram.types import CallbackQuery, Message

from bot import texts
from bot.config import Settings
from bot.content.calendar import can_export
from bot.content.formatting import as_list
from bot.content.ids import DB_INT_MAX
from bot.content.models import ItemKind, SubscriberStatus
from bot.services.container import Services
from bot.services.digests import open_item
from bot.telegram import callbacks as cb
from bot.telegram import keyboards as kb
from bot.telegram.callbacks import DigestAction
from bot.telegram.render import as_kwargs

log = logging.getLogger(__name__)

ITEM_LINK = re.compile(r"item_(\d{1,19})")
VOTED_KINDS = frozenset({ItemKind.MATERIAL, ItemKind.CASE})


async def item_card(
    message: Message, command: CommandObject, services: Services, settings: Settings
) -> None:
    """/start item_12, sent by Telegram when a digest entry's title is tapped. The dialog the
    chat may be in is left as it was: opening a card is not starting over."""
    match = ITEM_LINK.fullmatch(command.args or "")
    item_id = int(match[1]) if match else 0
    item = await open_item(services.items, item_id) if 1 <= item_id <= DB_INT_MAX else None
    if item is None:
        await message.answer(texts.ITEM_GONE)
        return
    event = item.kind is ItemKind.EVENT
    ahead = item.starts_at is not None and item.starts_at > datetime.now(settings.tz)
    markup = kb.item_card(
        item.id, texts.digest_button_title(item), remind=event and ahead,
        export=event and can_export(item), votes=item.kind in VOTED_KINDS,
    )  # fmt: skip
    content = texts.item_card(item, settings.tz)
    subscriber = await services.subscribers.get(message.chat.id)
    if subscriber is None or not subscriber.onboarded:
        content = as_list(content, "", texts.ITEM_CARD_SUBSCRIBE)
    await message.answer(**as_kwargs(content), reply_markup=markup)


async def digest_do(
    callback: CallbackQuery, callback_data: cb.DigestDo, services: Services
) -> None:
    chat_id = callback.from_user.id
    subscriber = await services.subscribers.get(chat_id)
    if subscriber is None or not subscriber.onboarded:
        await callback.answer(texts.NOT_SUBSCRIBED, show_alert=True)
        return
    message = callback.message if isinstance(callback.message, Message) else None
    if callback_data.action is DigestAction.SETTINGS:
        await callback.answer()
        # A message of its own: the digest stays on screen above it.
        await callback.bot.send_message(  # type: ignore[union-attr]
            chat_id, **as_kwargs(texts.settings_menu(subscriber)),
            reply_markup=kb.settings_menu(subscriber),
        )  # fmt: skip
        return
    pause = callback_data.action is DigestAction.PAUSE
    wanted = SubscriberStatus.PAUSED if pause else SubscriberStatus.ACTIVE
    if subscriber.status is wanted:
        answer = texts.DIGEST_ALREADY_PAUSED if pause else texts.DIGEST_ALREADY_ACTIVE
    else:
        await services.subscribers.set_status(chat_id, wanted)
        log.info("subscriber %s from a digest", "paused" if pause else "resumed")
        answer = texts.DIGEST_PAUSED if pause else texts.DIGEST_RESUMED
    await callback.answer(answer, show_alert=pause)
    if message is not None and message.reply_markup is not None:
        # The same message undoes it: «Пауза» becomes «Возобновить», the other buttons stay.
        with suppress(TelegramBadRequest):
            await message.edit_reply_markup(
                reply_markup=kb.digest_paused(message.reply_markup, pause)
            )


def build_router() -> Router:
    router = Router(name="digest_actions")
    # Before the start router, which would take «item_12» for where a subscriber came from.
    router.message.register(
        item_card, CommandStart(deep_link=True, magic=F.args.regexp(ITEM_LINK.pattern + "$"))
    )
    router.callback_query.register(digest_do, cb.DigestDo.filter())
    return router
