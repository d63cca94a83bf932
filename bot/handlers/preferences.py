"""Onboarding and /settings: the same preference buttons, two ways through them."""

from __future__ import annotations

from datetime import datetime

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot import texts
from bot.config import Settings
from bot.content.formatting import Text
from bot.content.models import ORG_NAME_MAX, Subscriber, SubscriberStatus, normalise_org_name
from bot.content.onboarding import IMPLIED_ORG_KIND, Step, org_name_problem, step_number, steps
from bot.handlers.common import drop_keyboard, show
from bot.services.container import Services
from bot.services.onboarding import first_run
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


def step_view(step: Step, subscriber: Subscriber) -> tuple[Text, InlineKeyboardMarkup]:
    """An onboarding question as she sees it, numbered among the steps she is asked."""
    number, total = step_number(step, subscriber.source, subscriber.role)
    flow = Flow.ONBOARDING
    if step is Step.ROLE:
        return texts.ask_step(step, number, total), kb.roles(flow)
    if step is Step.ORG_KIND:
        return texts.ask_step(step, number, total), kb.org_kinds(flow)
    if step is Step.ORG_NAME:
        return texts.ask_step(step, number, total), kb.org_name(flow)
    if step is Step.TOPICS:
        return texts.ask_step(step, number, total), kb.topics(flow, subscriber.topics)
    hint = texts.frequency_hint(subscriber.topics)
    return texts.ask_step(step, number, total, hint), kb.frequencies(flow)


def step_after(step: Step, subscriber: Subscriber) -> Step:
    asked = steps(subscriber.source, subscriber.role)
    return asked[asked.index(step) + 1] if step in asked[:-1] else Step.FREQUENCY


async def ask_step(
    callback: CallbackQuery, step: Step, subscriber: Subscriber, state: FSMContext
) -> None:
    """Show an onboarding question in place of the message whose button was pressed."""
    if step is Step.ORG_NAME:
        await ask_org_name(callback, Flow.ONBOARDING, state, subscriber)
        return
    await show(callback, *step_view(step, subscriber))


async def _after_change(
    callback: CallbackQuery, flow: Flow, subscriber: Subscriber, step: Section
) -> None:
    """/settings returns to its menu after a change."""
    await callback.answer(texts.SAVED)
    await show_menu(callback, subscriber)


def _onboarding(flow: Flow, subscriber: Subscriber) -> bool:
    return flow is Flow.ONBOARDING and not subscriber.onboarded


async def ask_org_name(
    callback: CallbackQuery, flow: Flow, state: FSMContext, subscriber: Subscriber
) -> None:
    # The state is set before the question appears, so an answer can't arrive ahead of it.
    message_id = callback.message.message_id if callback.message else None
    await state.set_state(Profile.org_name)
    await state.set_data({"flow": flow.value, "prompt_id": message_id})
    if flow is Flow.ONBOARDING:
        await show(callback, *step_view(Step.ORG_NAME, subscriber))
    else:
        await show(callback, texts.ASK_ORG_NAME_SETTINGS, kb.org_name(flow))


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
        await ask_org_name(callback, flow, state, subscriber)
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


async def set_role(
    callback: CallbackQuery, callback_data: cb.SetRole, services: Services, state: FSMContext
) -> None:
    chat_id = callback.from_user.id
    subscriber = await services.subscribers.set_role(chat_id, callback_data.role)
    if subscriber is None:
        await callback.answer(texts.NOT_SUBSCRIBED, show_alert=True)
        return
    implied = IMPLIED_ORG_KIND.get(callback_data.role)
    if implied is not None and subscriber.org_kind is not implied:
        # A воспитатель детского сада works in a детский сад: the question isn't asked.
        subscriber = await services.subscribers.set_org_kind(chat_id, implied) or subscriber
    if _onboarding(callback_data.flow, subscriber):
        await callback.answer()
        await ask_step(callback, step_after(Step.ROLE, subscriber), subscriber, state)
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
    if _onboarding(callback_data.flow, subscriber):
        await callback.answer()
        await ask_step(callback, Step.ORG_NAME, subscriber, state)
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
    if _onboarding(callback_data.flow, subscriber):
        await callback.answer()
        await ask_step(callback, Step.TOPICS, subscriber, state)
        return
    await _after_change(callback, callback_data.flow, subscriber, Section.ORG_NAME)


def known_command(text: str) -> bool:
    """A command some router answers: typed at a dialog's step, it still does its job."""
    word = text.split(maxsplit=1)[0][1:].split("@", 1)[0].lower() if text.strip() else ""
    return any(c.command == word for c in texts.EDITOR_COMMANDS)


async def org_name_typed(
    message: Message, bot: Bot, services: Services, state: FSMContext
) -> None:
    data = await state.get_data()
    onboarding = data.get("flow") == Flow.ONBOARDING.value
    text = message.text or ""
    problem = org_name_problem(text)
    if problem is not None:
        # The step stays: the next message is read as the name again.
        await message.answer(texts.org_name_refused(problem, onboarding))
        return
    name = normalise_org_name(text)
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
    if onboarding and not subscriber.onboarded:
        content, markup = step_view(Step.TOPICS, subscriber)
        await message.answer(**as_kwargs(content), reply_markup=markup)
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
    if not chosen:
        # Refused before anything is written: an empty set would silently send nothing.
        await callback.answer(texts.TOPICS_LAST_ONE, show_alert=True)
        return
    updated = await services.subscribers.set_topics(subscriber.chat_id, chosen)
    await callback.answer()
    if updated and isinstance(callback.message, Message):
        await callback.message.edit_reply_markup(
            reply_markup=kb.topics(callback_data.flow, updated.topics)
        )


async def topics_done(
    callback: CallbackQuery, callback_data: cb.TopicsDone, services: Services, state: FSMContext
) -> None:
    subscriber = await _subscriber(callback, services)
    if subscriber is None:
        return
    if not subscriber.topics:
        await callback.answer(texts.TOPICS_NONE_SELECTED, show_alert=True)
        return
    if _onboarding(callback_data.flow, subscriber):
        await callback.answer()
        await ask_step(callback, Step.FREQUENCY, subscriber, state)
        return
    await _after_change(callback, callback_data.flow, subscriber, Section.TOPICS)


async def set_frequency(
    callback: CallbackQuery,
    callback_data: cb.SetFrequency,
    bot: Bot,
    services: Services,
    settings: Settings,
) -> None:
    chat_id = callback.from_user.id
    subscriber = await services.subscribers.set_frequency(chat_id, callback_data.frequency)
    if subscriber is None:
        await callback.answer(texts.NOT_SUBSCRIBED, show_alert=True)
        return
    if not _onboarding(callback_data.flow, subscriber):
        await _after_change(callback, callback_data.flow, subscriber, Section.FREQUENCY)
        return
    subscriber = await services.subscribers.mark_onboarded(chat_id) or subscriber
    await callback.answer()
    coming = await first_run(services.items, subscriber, settings, datetime.now(settings.tz))
    # What comes next is a message of its own, for the main menu's keyboard comes only with
    # a new message; it is sent before the summary replaces the question, so by the time the
    # summary shows, everything of the first run is on the screen.
    await bot.send_message(
        chat_id,
        **as_kwargs(
            texts.first_run(coming.upcoming, coming.digest_at, subscriber.topics, settings.tz)
        ),
        reply_markup=kb.main_menu(),
    )
    await show(callback, texts.onboarding_done(subscriber), kb.share_button())


def build_router() -> Router:
    router = Router(name="preferences")
    router.message.register(settings_command, Command("settings"))
    router.callback_query.register(open_section, cb.OpenSettings.filter())
    router.callback_query.register(set_role, cb.SetRole.filter())
    router.callback_query.register(set_org_kind, cb.SetOrgKind.filter())
    router.callback_query.register(skip_org_name, cb.SkipOrgName.filter())
    router.message.register(
        org_name_typed, StateFilter(Profile.org_name), F.text, ~F.text.func(known_command)
    )
    router.message.register(org_name_not_text, StateFilter(Profile.org_name), ~F.text)
    router.callback_query.register(toggle_topic, cb.ToggleTopic.filter())
    router.callback_query.register(topics_done, cb.TopicsDone.filter())
    router.callback_query.register(set_frequency, cb.SetFrequency.filter())
    return router
