"""Webhook mode (`python -m bot web`): Telegram posts updates, aiogram's aiohttp handler takes
them, and each is handled before the answer (a worker killed mid-update gets it re-sent; a
chat's next update waits for the answer, so its order holds).

A re-sent update (Telegram got no 200 for it: a killed worker, a slow answer) is answered 200
and not handled again when some worker already handled it: `OnceOnly`, inside the chat's
event-isolation lock, so a copy waits for the original and then sees it done.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from aiogram import BaseMiddleware, Bot, Dispatcher
from aiogram.dispatcher.event.bases import UNHANDLED
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
        try:
            return await handler(event, data)
        finally:
            # Also after a handler's error (the error handler told the user): a re-send would
            # fail the same way. Not when the worker is killed: then it is handled again.
            await self._handled.remember(event.update_id, self._clock())
            self._since_prune += 1
            if self._since_prune >= PRUNE_EVERY:
                self._since_prune = 0
                await self._handled.prune(self._clock() - KEEP_HANDLED)


def build_web_app(
    dp: Dispatcher, bot: Bot, engine: Database, *, path: str, secret: str
) -> web.Application:
    """The aiohttp application a web worker serves: the webhook at `path`, /healthz."""
    app = web.Application()
    # The dispatcher's shutdown first (it lets the updates in progress finish), then the
    # handler's, which closes the bot's session: aiohttp runs on_shutdown before it waits for
    # the requests in flight, and a reply needs the session.
    setup_application(app, dp, bot=bot)
    SimpleRequestHandler(
        dispatcher=dp, bot=bot, handle_in_background=False, secret_token=secret
    ).register(app, path=path)

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
