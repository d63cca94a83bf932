"""What the bot can't serve gets a kind word instead of silence: being added to a group (it
works in private chats only: says so once, with a link), and a photo, sticker, voice message
and the like in the private chat, which it can't read."""

from __future__ import annotations

import logging

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import JOIN_TRANSITION, ChatMemberUpdatedFilter, StateFilter
from aiogram.types import ChatMemberUpdated, Message

from bot import texts
from bot.telegram import keyboards as kb
from bot.telegram.render import as_kwargs

log = logging.getLogger(__name__)

_MEDIA = (
    F.photo | F.sticker | F.voice | F.video | F.video_note | F.animation | F.audio
    | F.location | F.contact
)  # fmt: skip


async def added_to_group(event: ChatMemberUpdated, bot: Bot) -> None:
    """Said once, when the bot joins: every later group message is ignored (root filter)."""
    me = await bot.me()
    try:
        await bot.send_message(
            event.chat.id,
            **as_kwargs(texts.group_hint(me.first_name)),
            reply_markup=kb.open_private_chat(me.username or ""),
        )
    except TelegramAPIError as exc:  # a channel, or no right to write: nothing more to do
        log.info("group hint not sent: chat=%s %s", event.chat.id, type(exc).__name__)


async def media_sent(message: Message) -> None:
    await message.answer(texts.MEDIA_HINT)


def build_group_router() -> Router:
    router = Router(name="groups")
    router.my_chat_member.register(
        added_to_group,
        F.chat.type.in_({"group", "supergroup"}),
        ChatMemberUpdatedFilter(JOIN_TRANSITION),
    )
    return router


def build_media_router() -> Router:
    """After every feature (a dialog that wants a photo has it first), before the fallback."""
    router = Router(name="media-hint")
    router.message.register(media_sent, StateFilter(None), _MEDIA)
    return router
