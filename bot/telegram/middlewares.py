"""Outer middlewares that every update passes through."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import TelegramConflictError
from aiogram.methods import GetUpdates, Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import TelegramObject

log = logging.getLogger(__name__)

DRAIN_SECONDS = 10.0


class InFlightUpdates(BaseMiddleware):
    """Counts updates being handled, so shutdown can let them finish.

    aiogram closes the HTTP session as soon as polling stops; without this, a reply being sent
    at that moment (the second half of an onboarding step) would be cut off.
    """

    def __init__(self) -> None:
        self._count = 0
        self._idle = asyncio.Event()
        self._idle.set()

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        self._count += 1
        self._idle.clear()
        try:
            return await handler(event, data)
        finally:
            self._count -= 1
            if not self._count:
                self._idle.set()

    async def drain(self) -> None:
        try:
            await asyncio.wait_for(self._idle.wait(), DRAIN_SECONDS)
        except TimeoutError:
            log.warning(
                "shutdown: %s updates still in progress after %ss", self._count, DRAIN_SECONDS
            )


class PollHeartbeat(BaseRequestMiddleware):
    """Notes when Telegram last answered a getUpdates, and since when it has been answering
    409 Conflict, for the timetable's heartbeat job.

    A bot whose process is alive but whose polling has stalled is a common silent failure, and
    so is a second process polling the same token (Telegram then answers one of them 409, and
    aiogram's polling loop only logs it and retries for ever). `python -m bot status` reports
    both from what this notes.
    """

    def __init__(self) -> None:
        self.last_poll_at: datetime | None = None
        # The first 409 of the current unbroken run of them; None once a poll succeeds.
        self.conflict_since: datetime | None = None

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        polls = isinstance(method, GetUpdates)
        if not polls:
            return await make_request(bot, method)
        try:
            response = await make_request(bot, method)
        except TelegramConflictError:
            if self.conflict_since is None:
                self.conflict_since = datetime.now(UTC)
                log.warning("polling: 409 Conflict, another process polls this bot's token")
            raise
        self.last_poll_at = datetime.now(UTC)
        if self.conflict_since is not None:
            log.info("polling: the 409 Conflict is over")
            self.conflict_since = None
        return response
