"""Webhook mode (`python -m bot web`): Telegram posts updates, aiogram's aiohttp handler takes
them, and each is handled before the answer (a worker killed mid-update gets it re-sent; a
chat's next update waits for the answer, so its order holds).

A re-sent update (Telegram got no 200 for it: a killed worker, a slow answer) is answered 200
and not handled again when some worker already handled it: `OnceOnly`, inside the chat's
event-isolation lock, so a copy waits for the original and then sees it done.

A handler whose reply is its last word and harmless to repeat (a what's-next answer, /start's
greeting) returns the reply instead of sending it, and it goes in the answer to Telegram
(`AnsweringRequestHandler`); the update is remembered once that answer is written. A worker
killed before then has sent nothing: Telegram sends the update again and the copy is answered
once. A handler that sends its replies itself is remembered when it returns: a kill between its
reply and that leaves the reply to be made again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from aiogram import BaseMiddleware, Bot, Dispatcher
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.methods import TelegramMethod
from aiogram.types import TelegramObject, Update
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from bot.storage.database import Database
from bot.storage.updates import HandledUpdates, ping

log = logging.getLogger(__name__)

# Telegram re-sends an update for a day at most; kept a little longer.
KEEP_HANDLED = timedelta(days=2)
PRUNE_EVERY = 1000  # remembered updates between two prunes (and one at start-up)
HEALTH_TIMEOUT = 3.0
# Telegram waits about a minute for the answer, then sends the update again; a handler still
# busy by then is answered empty and its reply, if any, follows as a call of its own.
ANSWER_WITHIN = 55.0


class OnceOnly(BaseMiddleware):
    """Handles an update_id once across all the workers of one database."""

    def __init__(self, handled: HandledUpdates, clock: Callable[[], datetime] | None = None):
        self._handled = handled
        self._clock = clock or (lambda: datetime.now(UTC))
        self._since_prune = PRUNE_EVERY
        self.skipped = 0

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        assert isinstance(event, Update)
        if await self._handled.seen(event.update_id):
            self.skipped += 1
            log.info("update already handled: update_id=%s", event.update_id)
            return UNHANDLED
        in_answer = False
        try:
            result = await handler(event, data)
            # A reply for the answer to Telegram: remembered once that answer is written.
            in_answer = isinstance(result, TelegramMethod)
            return result
        finally:
            # Also after a handler's error (the error handler told the user): a re-send would
            # fail the same way. Not when the worker is killed: then it is handled again.
            if not in_answer:
                await self.remember(event.update_id)

    async def remember(self, update_id: int) -> None:
        await self._handled.remember(update_id, self._clock())
        self._since_prune += 1
        if self._since_prune >= PRUNE_EVERY:
            self._since_prune = 0
            await self._handled.prune(self._clock() - KEEP_HANDLED)


class AnsweringRequestHandler(SimpleRequestHandler):
    """aiogram's webhook handler, with the update handled before the answer and a reply the
    handler returned carried in it; the update is remembered (`OnceOnly`) after the answer is
    written, so that a worker killed before then has neither replied nor remembered."""

    def __init__(
        self, dispatcher: Dispatcher, bot: Bot, once: OnceOnly, *, secret_token: str
    ) -> None:
        super().__init__(
            dispatcher=dispatcher, bot=bot, handle_in_background=False, secret_token=secret_token
        )
        self._once = once
        self._late: set[asyncio.Task[None]] = set()

    async def _handle_request(self, bot: Bot, request: web.Request) -> web.Response:
        update = Update.model_validate(
            await request.json(loads=bot.session.json_loads), context={"bot": bot}
        )
        handling = asyncio.ensure_future(self.dispatcher.feed_update(bot, update, **self.data))
        done, _ = await asyncio.wait({handling}, timeout=ANSWER_WITHIN)
        if not done:
            log.warning(
                "update still handled after %.0f s, answered empty: update_id=%s",
                ANSWER_WITHIN,
                update.update_id,
            )
            late = asyncio.create_task(self._reply_late(bot, update.update_id, handling))
            self._late.add(late)
            late.add_done_callback(self._late.discard)
            return web.json_response({})
        result = handling.result()
        if not isinstance(result, TelegramMethod):
            return web.json_response({})
        response = web.Response(body=self._build_response_writer(bot=bot, result=result))
        try:
            await response.prepare(request)
            await response.write_eof()
        except ConnectionError:
            # Telegram (or the balancer) is gone: it sends the update again, and that copy
            # replies.
            log.info("the answer did not get through: update_id=%s", update.update_id)
            return response
        await self._once.remember(update.update_id)
        return response

    async def _reply_late(self, bot: Bot, update_id: int, handling: asyncio.Future[Any]) -> None:
        try:
            result = await handling
        except Exception:
            log.exception("a late update failed: update_id=%s", update_id)
            return
        if isinstance(result, TelegramMethod):
            await self.dispatcher.silent_call_request(bot=bot, result=result)
            await self._once.remember(update_id)

    async def close(self) -> None:
        if self._late:
            await asyncio.gather(*self._late, return_exceptions=True)
        await super().close()


def build_web_app(
    dp: Dispatcher, bot: Bot, engine: Database, *, path: str, secret: str, once: OnceOnly
) -> web.Application:
    """The aiohttp application a web worker serves: the webhook at `path`, /healthz. `once`:
    the dispatcher's middleware (`build_dispatcher(webhook=True)` keeps it in
    `dp["once_only"]`), which the answer remembers updates through."""
    app = web.Application()
    # The dispatcher's shutdown first (it lets the updates in progress finish), then the
    # handler's, which closes the bot's session: aiohttp runs on_shutdown before it waits for
    # the requests in flight, and a reply needs the session.
    setup_application(app, dp, bot=bot)
    AnsweringRequestHandler(dp, bot, once, secret_token=secret).register(app, path=path)

    async def healthz(request: web.Request) -> web.Response:
        try:
            async with asyncio.timeout(HEALTH_TIMEOUT):
                await ping(engine)
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            log.warning("healthz: the database does not answer: %s", type(exc).__name__)
            return web.Response(status=503, text="database unavailable")
        return web.Response(text="ok")

    app.router.add_get("/healthz", healthz)
    return app
