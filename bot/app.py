"""Builds the bot, the dispatcher and their dependencies; runs them. No side effects on import."""

from __future__ import annotations

import logging
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.fsm.storage.memory import SimpleEventIsolation
from aiogram.types import BotCommandScopeChat, BotCommandScopeDefault, ErrorEvent

from bot import texts
from bot.config import Settings
from bot.content.cleaning import loads_clean
from bot.delivery.engine import Sender, stop_sender
from bot.handlers import build_router
from bot.services.alerts import Alerts
from bot.services.container import Services, build_services
from bot.services.timetable import Timetable
from bot.storage.database import Database
from bot.telegram.commands import bot_commands
from bot.telegram.fsm import SqlStorage
from bot.telegram.middlewares import CallbackAnswers, InFlightUpdates, PollHeartbeat
from bot.telegram.transport import TelegramTransport, start_sender

log = logging.getLogger(__name__)


def json_loads(content: str) -> Any:
    return loads_clean(content)


def build_bot(settings: Settings) -> Bot:
    if settings.bot_token is None:
        raise ValueError("BOT_TOKEN is not set")
    # Every answer from Telegram, updates included, is cleaned as it is decoded: lone
    # surrogates and control characters never reach a handler, the database or the log.
    session = (
        AiohttpSession(
            api=TelegramAPIServer.from_base(settings.telegram_api_base), json_loads=json_loads
        )
        if settings.telegram_api_base
        else AiohttpSession(json_loads=json_loads)
    )
    return Bot(
        settings.bot_token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(link_preview_is_disabled=True),
    )


def build_dispatcher(
    settings: Settings,
    engine: Database,
    *,
    sender: Sender | None = None,
    with_timetable: bool = True,
) -> Dispatcher:
    """The dispatcher production runs; end-to-end tests and benchmarks build it the same way
    (a test may pass a sender tuned for speed, or leave the timetable out so that the time of
    day the suite runs at never fires a digest into it)."""
    sender = sender or Sender(settings, engine)
    services = build_services(settings, engine, wake=sender.wake)
    poll_heartbeat = PollHeartbeat()
    # The owners' alerts, checked by the timetable's heartbeat; sent through Telegram once
    # the bot is up (start_delivery below).
    alerts = Alerts(settings, engine)
    timetable = Timetable(
        settings, services,
        last_poll=lambda: poll_heartbeat.last_poll_at,
        poll_conflict=lambda: poll_heartbeat.conflict_since,
        token_rejected=lambda: poll_heartbeat.rejected_since,
        alerts=alerts,
    )  # fmt: skip
    # Dispatcher data: the services, the settings, and what aiogram's own glue reads.
    # The FSM middleware (it reads the dialog's state from the database) is registered below,
    # after the guard that answers button presses: a press's clock starts before any query.
    # One update of a chat at a time (aiogram handles updates as concurrent tasks): a quick
    # second message or tap sees the dialog state the first one left, never a stale one.
    dp = Dispatcher(
        storage=SqlStorage(services.dialogs),
        events_isolation=SimpleEventIsolation(),
        disable_fsm=True,
        settings=settings,
        services=services,
        poll_heartbeat=poll_heartbeat,
        alerts=alerts,
    )
    answers = CallbackAnswers()
    dp.update.outer_middleware(answers)
    dp.update.outer_middleware(dp.fsm)
    in_flight = InFlightUpdates()
    dp.update.outer_middleware(in_flight)
    dp.shutdown.register(in_flight.drain)

    async def watch_answers(bot: Bot) -> None:
        answers.install(bot)

    dp.startup.register(watch_answers)
    dp.include_router(build_router())
    dp.errors.register(on_error)
    dp.startup.register(set_commands)
    dp.startup.register(set_descriptions)
    dp.startup.register(forget_again)

    async def start_delivery(bot: Bot) -> None:
        await start_sender(bot, sender)
        alerts.attach(TelegramTransport(bot, rate=settings.send_rate))

    async def stop_delivery() -> None:
        await stop_sender(sender)

    dp.startup.register(start_delivery)
    if with_timetable:

        async def start_timetable() -> None:
            timetable.start()

        async def stop_timetable() -> None:
            await timetable.shutdown()

        dp.startup.register(start_timetable)
        dp.shutdown.register(stop_timetable)
    # After the in-flight updates drained: a handler may still wake the sender.
    dp.shutdown.register(stop_delivery)
    return dp


async def set_commands(bot: Bot, settings: Settings, services: Services) -> None:
    """The command menu in Russian; owners and editors get theirs through a per-chat scope."""
    await bot.set_my_commands(
        bot_commands(texts.SUBSCRIBER_COMMANDS), scope=BotCommandScopeDefault()
    )
    team = [*settings.admin_ids, *(e.user_id for e in await services.editors.all())]
    for admin_id in team:
        try:
            await bot.set_my_commands(
                bot_commands(texts.EDITOR_MENU_COMMANDS),
                scope=BotCommandScopeChat(chat_id=admin_id),
            )
        except TelegramBadRequest as exc:
            # An editor who has never opened the bot has no chat yet; they get it next start.
            log.warning("editor menu not set: admin=%s error=%s", admin_id, exc.message)


async def set_descriptions(bot: Bot) -> None:
    """What a newcomer sees in the empty chat before START, and on the bot's profile."""
    try:
        await bot.set_my_description(texts.BOT_DESCRIPTION)
        await bot.set_my_short_description(texts.BOT_SHORT_DESCRIPTION)
    except TelegramAPIError as exc:
        # The descriptions are a courtesy: a bot without them still works.
        log.warning("bot descriptions not set: %s", type(exc).__name__)


async def forget_again(services: Services) -> None:
    """Whoever used /forget stays forgotten after the database was restored from a backup."""
    await services.privacy.reapply()


async def on_error(event: ErrorEvent) -> bool:
    update = event.update
    log.error(
        "update failed: update_id=%s error=%s",
        update.update_id,
        type(event.exception).__name__,
        exc_info=event.exception,
    )
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(texts.SOMETHING_WENT_WRONG, show_alert=True)
        elif update.message is not None:
            await update.message.answer(texts.SOMETHING_WENT_WRONG)
    except TelegramAPIError as exc:
        log.warning("could not tell the user about the failure: %s", type(exc).__name__)
    return True


async def run_polling(settings: Settings, engine: Database, dp: Dispatcher | None = None) -> None:
    """Long polling until stopped (a signal, or `dp.stop_polling()` from a test)."""
    bot = build_bot(settings)
    dp = dp or build_dispatcher(settings, engine)
    bot.session.middleware(dp["poll_heartbeat"])
    try:
        me = await bot.get_me()
        log.info("bot started: username=@%s id=%s", me.username, me.id)
        await bot.delete_webhook(drop_pending_updates=False)
        await dp.start_polling(
            bot,
            allowed_updates=dp.resolve_used_update_types(),
            polling_timeout=settings.polling_timeout,
        )
    finally:
        await bot.session.close()
