"""The last router: whatever nobody else understood gets a hint, never silence."""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.types import CallbackQuery, Message

from bot import texts
from bot.services.container import Services
from bot.telegram.filters import PrivateChat
from bot.telegram.render import as_kwargs

log = logging.getLogger(__name__)


async def not_understood(message: Message, services: Services) -> None:
    subscriber = await services.subscribers.get(message.chat.id)
    await message.answer(**as_kwargs(texts.unknown_message(subscriber is not None)))


async def stale_button(callback: CallbackQuery) -> None:
    log.info(
        "stale or unknown button: user=%s data=%r",
        callback.from_user.id,
        (callback.data or "")[:64],
    )
    await callback.answer(texts.STALE_BUTTON, show_alert=True)


async def foreign_button(callback: CallbackQuery) -> None:
    log.warning("button from another chat refused: user=%s", callback.from_user.id)
    await callback.answer(texts.NOT_YOUR_BUTTON, show_alert=True)


def build_router() -> Router:
    router = Router(name="fallback")
    router.message.register(not_understood)
    router.callback_query.register(stale_button, PrivateChat())
    router.callback_query.register(foreign_button)
    return router
