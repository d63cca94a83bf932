"""/editors: owners (ADMIN_IDS) add and remove editors — by a forwarded message, a subscriber's
@username or a numeric Telegram ID."""

from __future__ import annotations

from contextlib import suppress

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    BotCommandScopeChat,
    Message,
    MessageOriginHiddenUser,
    MessageOriginUser,
)

from bot import texts
from bot.config import Settings
from bot.content.cleaning import clean_name
from bot.content.ids import is_number, parse_id
from bot.services.container import Services
from bot.telegram.commands import bot_commands
from bot.telegram.filters import IsOwner


class Team(StatesGroup):
    waiting_for_editor = State()


async def give_editor_menu(bot: Bot, user_id: int) -> None:
    """The editor's command menu in their chat; someone who never opened the bot gets it at
    the next start (set_commands)."""
    with suppress(TelegramBadRequest):
        await bot.set_my_commands(
            bot_commands(texts.EDITOR_MENU_COMMANDS), scope=BotCommandScopeChat(chat_id=user_id)
        )


async def _listing(settings: Settings, services: Services) -> str:
    return texts.editors_list(
        settings.admin_ids, [(e.user_id, e.name) for e in await services.editors.all()]
    )


async def _resolve(text: str, services: Services) -> tuple[int, str] | str:
    """(user id, name) from «123456789» or «@username»; else a Russian reason."""
    text = text.strip()
    if is_number(text.lstrip("-")):
        user_id = parse_id(text)
        if user_id is None:  # «-5», «0», or past any Telegram ID
            return texts.EDITOR_BAD_ID
        subscriber = await services.subscribers.get(user_id)
        return user_id, subscriber.name if subscriber else ""
    if text.startswith("@") and len(text) > 1:
        subscriber = await services.subscribers.by_username(text[1:])
        if subscriber is None:
            return texts.EDITOR_UNKNOWN_USERNAME.format(username=text)
        return subscriber.chat_id, subscriber.name
    return texts.EDITOR_HOW_TO_ADD


async def _add(
    message: Message, user_id: int, name: str, services: Services, settings: Settings
) -> None:
    if settings.is_admin(user_id):
        await message.answer(texts.EDITOR_IS_OWNER)
        return
    added = await services.editors.add(
        user_id, name, message.from_user.id if message.from_user else None
    )
    if added and message.bot is not None:
        await give_editor_menu(message.bot, user_id)
    await message.answer(
        (texts.EDITOR_ADDED if added else texts.EDITOR_ALREADY).format(name=name or user_id)
    )


async def editors_command(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    settings: Settings,
    services: Services,
) -> None:
    words = (command.args or "").split()
    if not words:
        await message.answer(await _listing(settings, services))
        return
    action, rest = words[0].lower(), " ".join(words[1:])
    if action in ("add", "добавить"):
        if not rest:
            await state.set_state(Team.waiting_for_editor)
            await message.answer(texts.EDITOR_SEND_FORWARD)
            return
        found = await _resolve(rest, services)
        if isinstance(found, str):
            await message.answer(found)
            return
        await _add(message, *found, services, settings)
        return
    if action in ("remove", "удалить") and is_number(rest.lstrip("-")):
        user_id = parse_id(rest)
        removed = user_id is not None and await services.editors.remove(user_id)
        if removed and user_id is not None and message.bot is not None:
            with suppress(TelegramBadRequest):
                await message.bot.delete_my_commands(scope=BotCommandScopeChat(chat_id=user_id))
        await message.answer(
            (texts.EDITOR_REMOVED if removed else texts.EDITOR_NOT_FOUND).format(user_id=rest[:20])
        )
        return
    await message.answer(texts.EDITOR_HOW_TO_ADD)


async def editor_forwarded(
    message: Message,
    state: FSMContext,
    settings: Settings,
    services: Services,
) -> None:
    origin = message.forward_origin
    if isinstance(origin, MessageOriginUser):
        await state.clear()
        await _add(
            message,
            origin.sender_user.id,
            clean_name(origin.sender_user.full_name),
            services,
            settings,
        )
        return
    if isinstance(origin, MessageOriginHiddenUser):
        await message.answer(texts.EDITOR_HIDDEN_FORWARD)
        return
    found = await _resolve(message.text or "", services)
    if isinstance(found, str):
        await message.answer(found)
        return
    await state.clear()
    await _add(message, *found, services, settings)


def build_router() -> Router:
    router = Router(name="team")
    router.message.filter(IsOwner())
    router.message.register(editors_command, Command("editors"))
    router.message.register(
        editor_forwarded, StateFilter(Team.waiting_for_editor), ~F.text.startswith("/")
    )
    return router
