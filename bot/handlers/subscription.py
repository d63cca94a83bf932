"""Pausing (/stop), forgetting (/forget), and the bot being blocked or unblocked."""

from __future__ import annotations

import logging

from aiogram import F, Router
from aiogram.filters import KICKED, MEMBER, ChatMemberUpdatedFilter, Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, ChatMemberUpdated, Message

from bot import texts
from bot.content.models import SubscriberStatus
from bot.handlers.common import show
from bot.services.container import Services
from bot.telegram import callbacks as cb
from bot.telegram import keyboards as kb
from bot.telegram.callbacks import Action
from bot.telegram.render import as_kwargs

log = logging.getLogger(__name__)


async def stop_command(message: Message, services: Services, state: FSMContext) -> None:
    await state.clear()
    subscriber = await services.subscribers.get(message.chat.id)
    if subscriber is None:
        await message.answer(texts.NOT_SUBSCRIBED)
    elif subscriber.status is SubscriberStatus.PAUSED:
        await message.answer(texts.ALREADY_STOPPED)
    else:
        await message.answer(**as_kwargs(texts.STOP_CONFIRM), reply_markup=kb.confirm_stop())


async def forget_command(message: Message, services: Services, state: FSMContext) -> None:
    await state.clear()
    if await services.subscribers.get(message.chat.id) is None:
        await message.answer(texts.NOTHING_TO_FORGET)
        return
    await message.answer(**as_kwargs(texts.FORGET_CONFIRM), reply_markup=kb.confirm_forget())


async def confirm_stop(
    callback: CallbackQuery, callback_data: cb.Confirm, services: Services
) -> None:
    if not callback_data.yes:
        await callback.answer()
        await show(callback, texts.STOP_CANCELLED)
        return
    subscriber = await services.subscribers.set_status(
        callback.from_user.id, SubscriberStatus.PAUSED
    )
    if subscriber is None:
        await callback.answer(texts.NOT_SUBSCRIBED, show_alert=True)
        return
    await callback.answer()
    await show(callback, texts.STOPPED)


async def confirm_forget(
    callback: CallbackQuery,
    callback_data: cb.Confirm,
    services: Services,
) -> None:
    await callback.answer()
    if not callback_data.yes:
        await show(callback, texts.FORGET_CANCELLED)
        return
    chat_id = callback.from_user.id
    existed = await services.privacy.forget(chat_id)
    if existed:
        log.info("subscriber forgotten on request")
    await show(callback, texts.FORGOTTEN if existed else texts.NOTHING_TO_FORGET)


async def bot_blocked(event: ChatMemberUpdated, services: Services) -> None:
    if await services.subscribers.set_status(event.chat.id, SubscriberStatus.BLOCKED):
        log.info("subscriber blocked the bot: chat=%s", event.chat.id)


async def bot_unblocked(event: ChatMemberUpdated, services: Services) -> None:
    subscriber = await services.subscribers.get(event.chat.id)
    if subscriber is not None and subscriber.status is SubscriberStatus.BLOCKED:
        await services.subscribers.set_status(event.chat.id, SubscriberStatus.ACTIVE)
        log.info("subscriber unblocked the bot: chat=%s", event.chat.id)


def build_router() -> Router:
    router = Router(name="subscription")
    router.message.register(stop_command, Command("stop"))
    router.message.register(forget_command, Command("forget"))
    router.callback_query.register(confirm_stop, cb.Confirm.filter(F.action == Action.STOP))
    router.callback_query.register(confirm_forget, cb.Confirm.filter(F.action == Action.FORGET))
    router.my_chat_member.register(
        bot_blocked, F.chat.type == "private", ChatMemberUpdatedFilter(KICKED)
    )
    router.my_chat_member.register(
        bot_unblocked, F.chat.type == "private", ChatMemberUpdatedFilter(MEMBER)
    )
    return router
