"""Builds the bot, the dispatcher and their dependencies; runs them. No side effects on import."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.fsm.storage.base import BaseEventIsolation
from aiogram.fsm.storage.memory import SimpleEventIsolation
from aiogram.types import BotCommandScopeChat, BotCommandScopeDefault, ErrorEvent
from aiohttp import web

from bot import texts
from bot.config import Settings
from bot.content.cleaning import loads_clean
from bot.delivery.engine import Sender, stop_sender
from bot.delivery.limits import PER_CHAT_INTERVAL
from bot.handlers import build_router
from bot.services.alerts import Alerts
from bot.services.container import Services, build_services
from bot.services.timetable import Timetable
from bot.storage.database import Database
from bot.storage.leadership import Leadership, leadership_for
from bot.storage.updates import HandledUpdates
from bot.telegram.commands import bot_commands
from bot.telegram.fsm import SqlStorage
from bot.telegram.middlewares import CallbackAnswers, InFlightUpdates, PollHeartbeat
from bot.telegram.transport import TelegramTransport, start_sender
from bot.telegram.webhook import OnceOnly, build_web_app

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


# A standby tries the worker lock this often, and the active worker confirms it this often.
STANDBY_POLL = 1.0
CONFIRM_EVERY = 1.0


class Background:
    """The sender and the timetable (its jobs: digests, reminders, feeds, backups, the
    heartbeat and the owners' alerts): what `run` and `worker` start, and `web` never.

    Only while this process holds the worker lock (storage/leadership.py): of several workers
    on one database one sends and keeps the timetable, the others wait as hot standbys and the
    first to get the lock after the active one died takes over."""

    def __init__(
        self,
        settings: Settings,
        engine: Database,
        *,
        sender: Sender | None = None,
        poll_heartbeat: PollHeartbeat | None = None,
        leadership: Leadership | None = None,
    ) -> None:
        self.settings = settings
        self.sender = sender or Sender(settings, engine)
        self.leadership = leadership or leadership_for(engine, self.sender.owner)
        self._watch: asyncio.Task[None] | None = None
        self._roles: tuple[bool, bool] = (False, False)
        self._bot: Bot | None = None
        self.active = False
        self.services = build_services(settings, engine, wake=self.sender.wake)
        # Without the polling's heartbeat this is a `worker`'s: it records no polling.
        polling = poll_heartbeat is not None
        heartbeat = poll_heartbeat or PollHeartbeat()
        # The owners' alerts, checked by the timetable's heartbeat; sent through Telegram
        # once the bot is up (start below).
        self.alerts = Alerts(settings, engine)
        self.timetable = Timetable(
            settings, self.services,
            last_poll=lambda: heartbeat.last_poll_at,
            poll_conflict=lambda: heartbeat.conflict_since,
            token_rejected=lambda: heartbeat.rejected_since,
            alerts=self.alerts, polling=polling,
        )  # fmt: skip
        self._started: list[str] = []

    async def start(self, bot: Bot, *, sender: bool = True, timetable: bool = True) -> None:
        """Start what was asked for now if this process gets the worker lock, else wait as
        the standby; either way a watch keeps the role right until `stop`."""
        if not (sender or timetable):
            return
        self._roles, self._bot = (sender, timetable), bot
        if await self.leadership.try_acquire():
            await self._become_active()
        else:
            log.warning(
                "worker: another process is the active worker of this database (it sends and "
                "keeps the timetable); this one waits as its standby"
            )
        self._watch = asyncio.create_task(self._keep_role(), name="worker-lock")

    async def _keep_role(self) -> None:
        while True:
            try:
                await self._check_role()
            except Exception:  # the database, or a bug: the role is checked again
                log.exception("worker: checking the worker lock failed; retrying")

    async def _check_role(self) -> None:
        if self.active:
            await asyncio.sleep(CONFIRM_EVERY)
            if not await self.leadership.confirm():
                log.error("worker: the worker lock is lost; sending and the timetable stop")
                await self._become_standby()
            return
        await asyncio.sleep(STANDBY_POLL)
        if await self.leadership.try_acquire():
            log.warning("worker: the active worker is gone; this one takes over")
            # A chat the last worker has just written to waits out its interval.
            await asyncio.sleep(max(PER_CHAT_INTERVAL, self.leadership.fence))
            await self._become_active()

    async def _become_active(self) -> None:
        assert self._bot is not None
        sender, timetable = self._roles
        self.active = True
        if sender:
            await start_sender(self._bot, self.sender)
            self.alerts.attach(TelegramTransport(self._bot, rate=self.settings.send_rate))
            self._started.append("sender")
        if timetable:
            self.timetable.start()
            self._started.append("timetable")

    async def _become_standby(self) -> None:
        # The timetable first: a job may still create a campaign for the sender.
        if "timetable" in self._started:
            await self.timetable.shutdown()
        if "sender" in self._started:
            await stop_sender(self.sender)
        self._started.clear()
        self.active = False

    async def stop(self) -> None:
        watch, self._watch = self._watch, None
        if watch is not None:
            watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watch
        await self._become_standby()
        await self.leadership.release()

    def running(self) -> set[str]:
        """What is running now: "sender" (its task alive), "timetable" (its scheduler)."""
        found = set()
        if self.sender.running:
            found.add("sender")
        if self.timetable.running:
            found.add("timetable")
        return found


def build_dispatcher(
    settings: Settings,
    engine: Database,
    *,
    sender: Sender | None = None,
    with_timetable: bool = True,
    with_sender: bool = True,
    webhook: bool = False,
) -> Dispatcher:
    """The dispatcher production runs; end-to-end tests and benchmarks build it the same way
    (a test may pass a sender tuned for speed, or leave the timetable out so that the time of
    day the suite runs at never fires a digest into it).

    `webhook`: a web worker's (`python -m bot web`) — no sender, no timetable, an update_id
    handled once across the workers, and with REDIS_URL each chat's updates one at a time
    across them."""
    poll_heartbeat = PollHeartbeat()
    background = Background(settings, engine, sender=sender, poll_heartbeat=poll_heartbeat)
    services = background.services
    # Dispatcher data: the services, the settings, and what aiogram's own glue reads.
    # The FSM middleware (it reads the dialog's state from the database) is registered below,
    # after the guard that answers button presses: a press's clock starts before any query.
    # One update of a chat at a time (aiogram handles updates as concurrent tasks): a quick
    # second message or tap sees the dialog state the first one left, never a stale one.
    dp = Dispatcher(
        storage=SqlStorage(services.dialogs),
        events_isolation=_events_isolation(settings),
        disable_fsm=True,
        settings=settings,
        services=services,
        poll_heartbeat=poll_heartbeat,
        alerts=background.alerts,
        background=background,
    )
    answers = CallbackAnswers()
    dp.update.outer_middleware(answers)
    dp.update.outer_middleware(dp.fsm)
    if webhook:
        # Inside the chat's lock: a re-sent copy waits for the original, then sees it done.
        once_only = dp["once_only"] = OnceOnly(HandledUpdates(engine))
        dp.update.outer_middleware(once_only)
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
    if webhook:
        with_sender = with_timetable = False

    async def start_background(bot: Bot) -> None:
        await background.start(bot, sender=with_sender, timetable=with_timetable)

    dp.startup.register(start_background)
    # After the in-flight updates drained: a handler may still wake the sender.
    dp.shutdown.register(background.stop)

    async def close_isolation() -> None:
        isolation = dp.fsm.events_isolation
        await isolation.close()
        # aiogram's Redis isolation leaves its client and connection pool open.
        redis = getattr(isolation, "redis", None)
        if redis is not None:
            await redis.aclose()
            await redis.connection_pool.disconnect()

    dp.shutdown.register(close_isolation)
    return dp


def _events_isolation(settings: Settings) -> BaseEventIsolation:
    if not settings.redis_url:
        return SimpleEventIsolation()
    # Imported only here: the `redis` package is the optional extra `.[redis]`.
    from aiogram.fsm.storage.base import DefaultKeyBuilder

    from bot.telegram.isolation import RenewedRedisEventIsolation

    return RenewedRedisEventIsolation.from_url(
        settings.redis_url, key_builder=DefaultKeyBuilder(prefix="infozona")
    )


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


async def _until_stopped(stop: asyncio.Event | None) -> None:
    """Until `stop` is set (a test), or SIGTERM / SIGINT (systemd, Ctrl-C)."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(signum)


async def run_web(
    settings: Settings,
    engine: Database,
    dp: Dispatcher | None = None,
    *,
    stop: asyncio.Event | None = None,
    serving: Callable[[str], None] | None = None,
) -> None:
    """A web worker: serves Telegram's webhook on WEB_HOST:WEB_PORT until stopped. Starts no
    sender and no timetable (`python -m bot worker` does). `serving` hears the bound
    address (http://host:port) once it accepts connections."""
    if settings.webhook_secret is None:
        raise ValueError("WEBHOOK_SECRET is not set")
    bot = build_bot(settings)
    dp = dp or build_dispatcher(settings, engine, webhook=True)
    app = build_web_app(
        dp, bot, engine,
        path=settings.webhook_path(),
        secret=settings.webhook_secret.get_secret_value(), once=dp["once_only"],
    )  # fmt: skip
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    try:
        await runner.setup()  # the dispatcher's start-up: it talks to Telegram already
    except BaseException:
        await bot.session.close()
        raise
    try:
        site = web.TCPSite(runner, settings.web_host, settings.web_port)
        await site.start()
        host, port = runner.addresses[0][:2]
        log.info(
            "web worker serving: host=%s port=%s path=%s", host, port, settings.webhook_path()
        )
        if serving is not None:
            serving(f"http://{host}:{port}")
        await _until_stopped(stop)
    finally:
        # Requests in flight finish (their updates are handled), then the dispatcher's
        # shutdown, then the bot's session (aiogram's handler closes it).
        await runner.cleanup()


async def run_worker(
    settings: Settings,
    engine: Database,
    *,
    background: Background | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """The worker: the sender and the timetable, no updates (`web` or `run` take those)."""
    bot = build_bot(settings)
    background = background or Background(settings, engine)
    try:
        me = await bot.get_me()
        log.info("worker started: username=@%s id=%s", me.username, me.id)
        await background.start(bot)
        await _until_stopped(stop)
    finally:
        await background.stop()
        await bot.session.close()


@dataclass(frozen=True)
class WebhookState:
    url: str
    pending: int
    last_error: str | None
    last_error_at: datetime | None
    max_connections: int | None
    allowed_updates: list[str] | None


async def webhook_command(settings: Settings, action: str) -> WebhookState:
    """`python -m bot webhook set|delete|info`, a deploy step: Telegram is told where to post
    (WEBHOOK_URL, with WEBHOOK_SECRET and the update types the handlers use), or to stop."""
    bot = build_bot(settings)
    try:
        if action == "set":
            if not settings.webhook_url or settings.webhook_secret is None:
                raise ValueError("WEBHOOK_URL and WEBHOOK_SECRET must be set")
            dp = Dispatcher()
            dp.include_router(build_router())
            await bot.set_webhook(
                settings.webhook_url,
                secret_token=settings.webhook_secret.get_secret_value(),
                allowed_updates=dp.resolve_used_update_types(),
                drop_pending_updates=False,
            )
        elif action == "delete":
            await bot.delete_webhook(drop_pending_updates=False)
        info = await bot.get_webhook_info()
        return WebhookState(
            url=info.url,
            pending=info.pending_update_count,
            last_error=info.last_error_message,
            last_error_at=info.last_error_date,
            max_connections=info.max_connections,
            allowed_updates=info.allowed_updates,
        )
    finally:
        await bot.session.close()
