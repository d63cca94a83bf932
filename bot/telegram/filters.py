"""Audience filters, applied once per router."""

from __future__ import annotations

from aiogram.filters import BaseFilter
from aiogram.types import CallbackQuery, Message, User

from bot.config import Settings
from bot.services.container import Services
from bot.telegram.callbacks import EDITOR_PREFIXES


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
    """An owner (ADMIN_IDS) or an editor an owner added; checked on the server for every
    editor message and button, never trusted from the button itself."""

    async def __call__(
        self, event: Message | CallbackQuery, settings: Settings, services: Services
    ) -> bool:
        user: User | None = event.from_user
        if user is None:
            return False
        return settings.is_admin(user.id) or await services.editors.is_editor(user.id)


class IsOwner(BaseFilter):
    async def __call__(self, event: Message | CallbackQuery, settings: Settings) -> bool:
        user: User | None = event.from_user
        return user is not None and settings.is_admin(user.id)


class EditorButton(BaseFilter):
    """A button of an editor feature, whoever pressed it (the gate refuses non-editors)."""

    async def __call__(self, callback: CallbackQuery) -> bool:
        data = callback.data or ""
        return any(data.startswith(prefix + ":") for prefix in EDITOR_PREFIXES)
