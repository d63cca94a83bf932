"""The last router: whatever nobody else understood gets an answer with a way on, never silence
and never «I only understand commands».

Free text that browsing did not take (a what's-next question, materials, the sites' experience)
is read here: thanks, goodbyes and greetings get a short warm answer, «отписаться» the /stop
confirmation, anything else the menu, a search with those words and «Отправить как вопрос в
ИМЦ», one tap each. The words wait in the chat's FSM data for the tap.
"""

from __future__ import annotations

import logging
from datetime import datetime

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.methods import SendMessage
from aiogram.types import CallbackQuery, Message

from bot import texts
from bot.config import Settings
from bot.content.intents import Intent, read_text
from bot.handlers import subscription
from bot.handlers.common import offered_words
from bot.handlers.questions import submit_question
from bot.services.container import Services
from bot.services.questions import QUESTION_MAX
from bot.telegram import callbacks as cb
from bot.telegram import keyboards as kb
from bot.telegram.filters import PrivateChat
from bot.telegram.render import as_kwargs

log = logging.getLogger(__name__)

SHORT_REPLIES = {
    Intent.THANKS: texts.THANKS_REPLY,
    Intent.BYE: texts.BYE_REPLY,
    Intent.ACK: texts.ACK_REPLY,
}


async def free_text(
    message: Message, services: Services, settings: Settings, state: FSMContext
) -> SendMessage | None:
    """The reply is returned (in webhook mode it goes in the answer to Telegram): a second
    run of a re-sent message stores the same words and answers the same."""
    text = message.text or ""
    reading = read_text(text, datetime.now(settings.tz).date())
    if reading.intent in SHORT_REPLIES:
        return message.answer(SHORT_REPLIES[reading.intent])
    if reading.intent is Intent.STOP:
        await subscription.stop_command(message, services, state)
        return None
    # Someone who has not subscribed yet is told how, under either answer.
    stranger = await services.subscribers.get(message.chat.id) is None
    if reading.intent is Intent.HELLO:
        reply = texts.with_start_hint(texts.HELLO_REPLY) if stranger else texts.HELLO_REPLY
        return message.answer(reply, reply_markup=kb.fallback_offers(None))
    said = text.strip()[:QUESTION_MAX]
    await state.update_data(said=said)
    offers = kb.fallback_offers(" ".join(said.split()))
    reply = texts.with_start_hint(texts.FALLBACK_REPLY) if stranger else texts.FALLBACK_REPLY
    return message.answer(reply, reply_markup=offers)


async def not_understood(message: Message, services: Services) -> SendMessage:
    subscriber = await services.subscribers.get(message.chat.id)
    return message.answer(**as_kwargs(texts.unknown_message(subscriber is not None)))


async def offer_menu(callback: CallbackQuery, settings: Settings, services: Services) -> None:
    """«☰ Меню»: what /help says, with the main menu's big buttons back for a subscriber."""
    await callback.answer()
    if isinstance(callback.message, Message):
        is_editor = settings.is_admin(callback.from_user.id)
        subscriber = await services.subscribers.get(callback.from_user.id)
        menu = kb.main_menu() if subscriber is not None and subscriber.onboarded else None
        await callback.message.answer(**as_kwargs(texts.help_text(is_editor)), reply_markup=menu)


async def offer_ask(
    callback: CallbackQuery, state: FSMContext, settings: Settings, services: Services
) -> None:
    """«Отправить как вопрос в ИМЦ»: the words written, as /ask would send them."""
    offered = await offered_words(callback, state)
    if offered is None:
        return
    message, said = offered
    await state.update_data(said=None)  # sent once, not twice on a second tap
    await submit_question(message, said, state, settings=settings, services=services)


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
    router.message.register(free_text, F.text, ~F.text.startswith("/"))
    router.message.register(not_understood)
    router.callback_query.register(
        offer_menu, PrivateChat(), cb.Fallback.filter(F.offer == cb.Offer.MENU)
    )
    router.callback_query.register(
        offer_ask, PrivateChat(), cb.Fallback.filter(F.offer == cb.Offer.ASK)
    )
    router.callback_query.register(stale_button, PrivateChat())
    router.callback_query.register(foreign_button)
    return router
