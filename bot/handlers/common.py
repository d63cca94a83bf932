"""Small rendering helpers shared by the routers."""

from __future__ import annotations

import logging
from contextlib import suppress

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot import texts
from bot.content.formatting import Text
from bot.telegram.render import as_kwargs

log = logging.getLogger(__name__)


async def show(
    callback: CallbackQuery, content: Text | str, markup: InlineKeyboardMarkup | None = None
) -> None:
    """Replace the message under the pressed button; send a new one if it can't be edited."""
    body = content if isinstance(content, Text) else Text(content)
    message = callback.message
    if isinstance(message, Message):
        try:
            await message.edit_text(**as_kwargs(body), reply_markup=markup)
            return
        except TelegramBadRequest as exc:
            if "message is not modified" in exc.message:
                return
            log.info("edit failed, sending anew: chat=%s error=%s", message.chat.id, exc.message)
    if callback.message is not None:
        await callback.bot.send_message(  # type: ignore[union-attr]
            callback.message.chat.id, **as_kwargs(body), reply_markup=markup
        )


async def drop_keyboard(bot: Bot, chat_id: int, message_id: int | None) -> None:
    """Remove the buttons of an earlier prompt so they can't be pressed out of turn."""
    if message_id is None:
        return
    with suppress(TelegramBadRequest):
        await bot.edit_message_reply_markup(chat_id=chat_id, message_id=message_id)


async def offered_words(callback: CallbackQuery, state: FSMContext) -> tuple[Message, str] | None:
    """The words the fallback offered to search for or to send as a question, and the message
    under which the offer was pressed; None (the presser told the offer expired) if gone."""
    said = (await state.get_data()).get("said")
    if not said or not isinstance(callback.message, Message):
        await callback.answer(texts.OFFER_EXPIRED, show_alert=True)
        return None
    await callback.answer()
    return callback.message, str(said)
