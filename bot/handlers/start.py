"""/start (subscribe, resume, or show what is set), /help and /privacy."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.methods import SendMessage
from aiogram.types import CallbackQuery, Message
from aiogram.utils.deep_linking import create_start_link

from bot import texts
from bot.config import Settings
from bot.content.cleaning import clean_name
from bot.content.formatting import Text
from bot.content.models import SubscriberStatus, parse_source
from bot.content.onboarding import steps
from bot.handlers.common import show
from bot.handlers.preferences import ask_step
from bot.services import onboarding
from bot.services.container import Services
from bot.telegram import callbacks as cb
from bot.telegram import keyboards as kb
from bot.telegram.render import as_kwargs

SHARE_SOURCE = "share"  # the payload of links passed on by subscribers: /stats counts them


async def start(
    message: Message,
    command: CommandObject,
    services: Services,
    state: FSMContext,
) -> SendMessage | None:
    """Each reply is returned (in webhook mode it goes in the answer to Telegram); a second
    run of a re-sent /start answers the same, or «already subscribed» after a resume."""
    user = message.from_user
    if user is None:
        return None
    await state.clear()
    subscriber = await services.subscribers.get(message.chat.id)
    if subscriber is not None and subscriber.onboarded:
        await services.subscribers.touch_profile(
            subscriber, name=clean_name(user.full_name), username=user.username
        )
        if subscriber.status is not SubscriberStatus.ACTIVE:
            subscriber = (
                await services.subscribers.set_status(subscriber.chat_id, SubscriberStatus.ACTIVE)
                or subscriber
            )
            return message.answer(
                **as_kwargs(texts.resumed(subscriber)), reply_markup=kb.main_menu()
            )
        return message.answer(
            **as_kwargs(texts.already_subscribed(subscriber)), reply_markup=kb.main_menu()
        )
    # Nothing is stored before she agrees; the link she came by waits in the dialog's data
    # (erased by /forget like any dialog) until «Согласен(на)».
    source = parse_source(command.args)
    if source is not None:
        await state.set_data({"source": source})
    return message.answer(**as_kwargs(texts.greeting(user.first_name)), reply_markup=kb.consent())


async def consent_pressed(
    callback: CallbackQuery,
    callback_data: cb.Consent,
    bot: Bot,
    services: Services,
    settings: Settings,
    state: FSMContext,
) -> None:
    user = callback.from_user
    if callback_data.privacy:
        await callback.answer()
        await bot.send_message(user.id, **as_kwargs(_privacy(settings)))
        return
    existing = await services.subscribers.get(user.id)
    if existing is not None and existing.onboarded:
        await callback.answer()
        await show(callback, texts.already_subscribed(existing))
        return
    source = parse_source((await state.get_data()).get("source"))
    await state.clear()
    subscriber = await onboarding.consent(
        services.subscribers,
        user.id,
        name=clean_name(user.full_name),
        username=user.username,
        source=source,
    )
    await callback.answer()
    await ask_step(callback, steps(subscriber.source, subscriber.role)[0], subscriber, state)


async def share_pressed(callback: CallbackQuery, bot: Bot) -> None:
    await callback.answer()
    link = await create_start_link(bot, SHARE_SOURCE)
    await bot.send_message(
        callback.from_user.id, **as_kwargs(texts.share(link)), reply_markup=kb.share(link)
    )


async def help_command(message: Message, settings: Settings, services: Services) -> SendMessage:
    is_editor = message.from_user is not None and settings.is_admin(message.from_user.id)
    subscriber = await services.subscribers.get(message.chat.id)
    # /help brings the main menu back to whoever has hidden or lost it.
    menu = kb.main_menu() if subscriber is not None and subscriber.onboarded else None
    return message.answer(**as_kwargs(texts.help_text(is_editor)), reply_markup=menu)


def _privacy(settings: Settings) -> Text:
    return texts.privacy(
        settings.operator_name,
        settings.privacy_contact,
        backup_days=settings.backup_keep,
        log_days=settings.log_keep_days,
    )


async def privacy_command(message: Message, settings: Settings) -> SendMessage:
    return message.answer(**as_kwargs(_privacy(settings)))


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
    router.callback_query.register(consent_pressed, cb.Consent.filter())
    router.callback_query.register(share_pressed, cb.ShareLink.filter())
    return router
