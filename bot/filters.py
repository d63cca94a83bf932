"""Audience filters, applied once per router."""

from __future__ import annotations

from aiogram.filters import BaseFilter
from aiogram.types import CallbackQuery, Message, User

from bot.config import Settings


class PrivateChat(BaseFilter):
    """A message in a private chat, or a button under the presser's own private chat message.

    A callback whose message sits in another chat is someone else's button (or a forgery).
    """

    async def __call__(self, event: Message | CallbackQuery) -> bool:
        if isinstance(event, Message):
            return event.chat.type == "private"
        message = event.message
        return message is not None and message.chat.id == event.from_user.id


class IsEditor(BaseFilter):
    async def __call__(self, event: Message | CallbackQuery, settings: Settings) -> bool:
        user: User | None = event.from_user
        return user is not None and settings.is_admin(user.id)
