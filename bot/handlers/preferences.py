"""Onboarding and /settings: the same preference buttons, two ways through them."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot import texts
from bot.content.models import ORG_NAME_MAX, Subscriber, SubscriberStatus, normalise_org_name
from bot.handlers.common import drop_keyboard, show
from bot.services.container import Services
from bot.telegram import callbacks as cb
from bot.telegram import keyboards as kb
from bot.telegram.callbacks import Flow, Section
from bot.telegram.render import as_kwargs


class Profile(StatesGroup):
    org_name = State()


async def _subscriber(callback: CallbackQuery, services: Services) -> Subscriber | None:
    subscriber = await services.subscribers.get(callback.from_user.id)
    if subscriber is None:
        await callback.answer(texts.NOT_SUBSCRIBED, show_alert=True)
    return subscriber


async def show_menu(callback: CallbackQuery, subscriber: Subscriber) -> None:
    await show(callback, texts.settings_menu(subscriber), kb.settings_menu(subscriber))


async def _after_change(
    callback: CallbackQuery, flow: Flow, subscriber: Subscriber, step: Section
) -> None:
    """Onboarding moves on to the next question; /settings returns to its menu."""
    if flow is Flow.SETTINGS or subscriber.onboarded:
        await callback.answer(texts.SAVED)
        await show_menu(callback, subscriber)
        return
    await callback.answer()
    if step is Section.ROLE:
        await show(callback, texts.ASK_ORG_KIND, kb.org_kinds(flow))
    elif step is Section.TOPICS:
        await show(callback, texts.ASK_FREQUENCY, kb.frequencies(flow))


async def ask_org_name(callback: CallbackQuery, flow: Flow, state: FSMContext) -> None:
    prompt = texts.ASK_ORG_NAME if flow is Flow.ONBOARDING else texts.ASK_ORG_NAME_SETTINGS
    # The state is set before the question appears, so an answer can't arrive ahead of it.
    message_id = callback.message.message_id if callback.message else None
    await state.set_state(Profile.org_name)
    await state.set_data({"flow": flow.value, "prompt_id": message_id})
    await show(callback, prompt, kb.org_name(flow))


async def settings_command(message: Message, services: Services, state: FSMContext) -> None:
    await state.clear()
    subscriber = await services.subscribers.get(message.chat.id)
    if subscriber is None or not subscriber.onboarded:
        await message.answer(texts.NOT_SUBSCRIBED)
        return
    await message.answer(
        **as_kwargs(texts.settings_menu(subscriber)), reply_markup=kb.settings_menu(subscriber)
    )


async def open_section(
    callback: CallbackQuery,
    callback_data: cb.OpenSettings,
    services: Services,
    state: FSMContext,
) -> None:
    subscriber = await _subscriber(callback, services)
    if subscriber is None:
        return
    await state.clear()
    section = callback_data.section
    flow = Flow.SETTINGS
    if section is Section.RESUME:
        resumed = await services.subscribers.set_status(
            subscriber.chat_id, SubscriberStatus.ACTIVE
        )
        await callback.answer(texts.SAVED)
        if resumed:
            await show_menu(callback, resumed)
        return
    # The press is answered before the message changes: editing can wait, the button can't.
    await callback.answer()
    if section is Section.ROLE:
        await show(callback, texts.SETTINGS_ASK_ROLE, kb.roles(flow, subscriber.role))
    elif section is Section.ORG_KIND:
        await show(callback, texts.SETTINGS_ASK_ORG_KIND, kb.org_kinds(flow, subscriber.org_kind))
    elif section is Section.ORG_NAME:
        await ask_org_name(callback, flow, state)
    elif section is Section.TOPICS:
        await show(callback, texts.SETTINGS_ASK_TOPICS, kb.topics(flow, subscriber.topics))
    elif section is Section.FREQUENCY:
        await show(
            callback, texts.SETTINGS_ASK_FREQUENCY, kb.frequencies(flow, subscriber.frequency)
        )
    elif section is Section.PAUSE:
        await show(callback, texts.STOP_CONFIRM, kb.confirm_stop())
    elif section is Section.CLOSE:
        await show(callback, texts.SETTINGS_CLOSED)
    else:
        await show_menu(callback, subscriber)


async def set_role(callback: CallbackQuery, callback_data: cb.SetRole, services: Services) -> None:
    subscriber = await services.subscribers.set_role(callback.from_user.id, callback_data.role)
    if subscriber is None:
        await callback.answer(texts.NOT_SUBSCRIBED, show_alert=True)
        return
    await _after_change(callback, callback_data.flow, subscriber, Section.ROLE)


async def set_org_kind(
    callback: CallbackQuery,
    callback_data: cb.SetOrgKind,
    services: Services,
    state: FSMContext,
) -> None:
    subscriber = await services.subscribers.set_org_kind(
        callback.from_user.id, callback_data.org_kind
    )
    if subscriber is None:
        await callback.answer(texts.NOT_SUBSCRIBED, show_alert=True)
        return
    if callback_data.flow is Flow.ONBOARDING and not subscriber.onboarded:
        await callback.answer()
        await ask_org_name(callback, Flow.ONBOARDING, state)
        return
    await _after_change(callback, callback_data.flow, subscriber, Section.ORG_KIND)


async def skip_org_name(
    callback: CallbackQuery,
    callback_data: cb.SkipOrgName,
    services: Services,
    state: FSMContext,
) -> None:
    await state.clear()
    chat_id = callback.from_user.id
    if callback_data.flow is Flow.SETTINGS:
        subscriber = await services.subscribers.set_org_name(chat_id, None)
    else:
        subscriber = await services.subscribers.get(chat_id)
    if subscriber is None:
        await callback.answer(texts.NOT_SUBSCRIBED, show_alert=True)
        return
    if callback_data.flow is Flow.ONBOARDING and not subscriber.onboarded:
        await callback.answer()
        await show(callback, texts.ASK_TOPICS, kb.topics(Flow.ONBOARDING, subscriber.topics))
        return
    await _after_change(callback, callback_data.flow, subscriber, Section.ORG_NAME)


async def org_name_typed(
    message: Message, bot: Bot, services: Services, state: FSMContext
) -> None:
    data = await state.get_data()
    onboarding = data.get("flow") == Flow.ONBOARDING.value
    name = normalise_org_name(message.text or "")
    if not name:
        await message.answer(texts.org_name_empty(onboarding))
        return
    if len(name) > ORG_NAME_MAX:
        await message.answer(texts.org_name_too_long(onboarding))
        return
    await state.clear()
    subscriber = await services.subscribers.set_org_name(message.chat.id, name)
    if subscriber is None:
        await message.answer(texts.NOT_SUBSCRIBED)
        return
    await drop_keyboard(bot, message.chat.id, data.get("prompt_id"))
    if data.get("flow") == Flow.ONBOARDING.value and not subscriber.onboarded:
        await message.answer(
            **as_kwargs(texts.ASK_TOPICS),
            reply_markup=kb.topics(Flow.ONBOARDING, subscriber.topics),
        )
        return
    await message.answer(
        **as_kwargs(texts.settings_menu(subscriber)), reply_markup=kb.settings_menu(subscriber)
    )


async def org_name_not_text(message: Message, state: FSMContext) -> None:
    onboarding = (await state.get_data()).get("flow") == Flow.ONBOARDING.value
    await message.answer(texts.org_name_not_text(onboarding))


async def toggle_topic(
    callback: CallbackQuery, callback_data: cb.ToggleTopic, services: Services
) -> None:
    subscriber = await _subscriber(callback, services)
    if subscriber is None:
        return
    chosen = subscriber.topics ^ {callback_data.topic}
    updated = await services.subscribers.set_topics(subscriber.chat_id, chosen)
    await callback.answer()
    if updated and isinstance(callback.message, Message):
        await callback.message.edit_reply_markup(
            reply_markup=kb.topics(callback_data.flow, updated.topics)
        )


async def topics_done(
    callback: CallbackQuery, callback_data: cb.TopicsDone, services: Services
) -> None:
    subscriber = await _subscriber(callback, services)
    if subscriber is None:
        return
    if not subscriber.topics:
        await callback.answer(texts.TOPICS_NONE_SELECTED, show_alert=True)
        return
    await _after_change(callback, callback_data.flow, subscriber, Section.TOPICS)


async def set_frequency(
    callback: CallbackQuery, callback_data: cb.SetFrequency, services: Services
) -> None:
    chat_id = callback.from_user.id
    subscriber = await services.subscribers.set_frequency(chat_id, callback_data.frequency)
    if subscriber is None:
        await callback.answer(texts.NOT_SUBSCRIBED, show_alert=True)
        return
    if callback_data.flow is Flow.ONBOARDING and not subscriber.onboarded:
        subscriber = await services.subscribers.mark_onboarded(chat_id) or subscriber
        await callback.answer()
        await show(callback, texts.onboarding_done(subscriber))
        return
    await _after_change(callback, callback_data.flow, subscriber, Section.FREQUENCY)


def build_router() -> Router:
    router = Router(name="preferences")
    router.message.register(settings_command, Command("settings"))
    router.callback_query.register(open_section, cb.OpenSettings.filter())
    router.callback_query.register(set_role, cb.SetRole.filter())
    router.callback_query.register(set_org_kind, cb.SetOrgKind.filter())
    router.callback_query.register(skip_org_name, cb.SkipOrgName.filter())
    router.message.register(
        org_name_typed, StateFilter(Profile.org_name), F.text, ~F.text.startswith("/")
    )
    router.message.register(org_name_not_text, StateFilter(Profile.org_name), ~F.text)
    router.callback_query.register(toggle_topic, cb.ToggleTopic.filter())
    router.callback_query.register(topics_done, cb.TopicsDone.filter())
    router.callback_query.register(set_frequency, cb.SetFrequency.filter())
    return router
