"""/start (subscribe, resume, or show what is set), /help and /privacy."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import Message

from bot import texts
from bot.config import Settings
from bot.content.cleaning import clean_name
from bot.content.models import SubscriberStatus, parse_source
from bot.services.container import Services
from bot.telegram import keyboards as kb
from bot.telegram.callbacks import Flow
from bot.telegram.render import as_kwargs


async def start(
    message: Message,
    command: CommandObject,
    services: Services,
    state: FSMContext,
) -> None:
    user = message.from_user
    if user is None:
        return
    await state.clear()
    registration = await services.subscribers.register(
        message.chat.id,
        name=clean_name(user.full_name),
        username=user.username,
        source=parse_source(command.args),
    )
    subscriber = registration.subscriber
    if not registration.created:
        await services.subscribers.touch_profile(
            subscriber, name=clean_name(user.full_name), username=user.username
        )
    if subscriber.status is not SubscriberStatus.ACTIVE:
        subscriber = (
            await services.subscribers.set_status(subscriber.chat_id, SubscriberStatus.ACTIVE)
            or subscriber
        )
        if subscriber.onboarded:
            await message.answer(**as_kwargs(texts.resumed(subscriber)))
            return
    if subscriber.onboarded:
        await message.answer(
            **as_kwargs(texts.already_subscribed(subscriber)),
            reply_markup=kb.settings_menu(subscriber),
        )
        return
    await message.answer(**as_kwargs(texts.greeting(user.first_name)))
    await message.answer(**as_kwargs(texts.ASK_ROLE), reply_markup=kb.roles(Flow.ONBOARDING))


async def help_command(message: Message, settings: Settings) -> None:
    is_editor = message.from_user is not None and settings.is_admin(message.from_user.id)
    await message.answer(**as_kwargs(texts.help_text(is_editor)))


async def privacy_command(message: Message, settings: Settings) -> None:
    await message.answer(
        **as_kwargs(
            texts.privacy(
                settings.operator_name,
                settings.privacy_contact,
                backup_days=settings.backup_keep,
                log_days=settings.log_keep_days,
            )
        )
    )


async def cancel_command(message: Message, state: FSMContext) -> None:
    """Leave whatever dialog is open; what it had saved (settings, a draft) stays."""
    current = await state.get_state()
    if current is None:
        await message.answer(texts.NOTHING_TO_CANCEL)
        return
    if current.startswith("NewPost:"):
        # A post being written is dropped: nothing of it was stored yet.
        await state.clear()
        await message.answer(texts.NEW_CANCELLED)
        return
    await state.set_state(None)
    await message.answer(texts.CANCELLED)


def build_router() -> Router:
    router = Router(name="start")
    router.message.register(cancel_command, Command("cancel"))
    router.message.register(start, CommandStart())
    router.message.register(help_command, Command("help"))
    router.message.register(privacy_command, Command("privacy"))
    return router
