"""Outer middlewares that every update passes through."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from aiogram import BaseMiddleware, Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramConflictError,
    TelegramUnauthorizedError,
)
from aiogram.methods import AnswerCallbackQuery, GetUpdates, Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import CallbackQuery, TelegramObject, Update

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
        # The first 401 Unauthorized of the current run of them (the token was revoked while
        # the bot ran); None once a poll succeeds.
        self.rejected_since: datetime | None = None

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
        except TelegramUnauthorizedError:
            if self.rejected_since is None:
                self.rejected_since = datetime.now(UTC)
                log.error("polling: Telegram rejects the bot token (401 Unauthorized)")
            raise
        self.last_poll_at = datetime.now(UTC)
        if self.rejected_since is not None:
            log.info("polling: Telegram accepts the bot token again")
            self.rejected_since = None
        if self.conflict_since is not None:
            log.info("polling: the 409 Conflict is over")
            self.conflict_since = None
        return response


# A press Telegram has not had an answer to within about 15 s expires, and the button spins on.
ANSWER_WITHIN = 2.0


@dataclass
class _Press:
    chat_id: int
    answered: bool = False


class CallbackAnswers(BaseMiddleware):
    """Every button press is answered exactly once, and within `within` seconds.

    Handlers answer first — with their toast or alert, or empty — and do the slow work after.
    This outer middleware of the dispatcher's updates (or of its callback queries) guards the
    rest: a press still unanswered after `within` seconds (a database slowed by a burst of
    presses) is answered empty, and so is one whose handler returned without answering. Its
    `requests` middleware, on the bot's session, lets only the first answer to a press through:
    Telegram refuses a second one, so a late alert (after the timer answered) comes as a
    message instead, and a late toast is dropped. A handler's exception leaves the answer to
    the error handler.
    """

    def __init__(self, within: float | None = None) -> None:
        self._within = ANSWER_WITHIN if within is None else within
        self._presses: dict[str, _Press] = {}
        self._late_answers: set[asyncio.Task[None]] = set()
        self.requests = _FirstAnswerOnly(self)

    def install(self, bot: Bot) -> None:
        """Watch the bot's answers (at start-up: the dispatcher's bot is not known before)."""
        if self.requests not in bot.session.middleware:
            bot.session.middleware(self.requests)

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        bot = data.get("bot")
        query = event.callback_query if isinstance(event, Update) else event
        if (
            not isinstance(query, CallbackQuery)
            or not isinstance(bot, Bot)
            or self.requests not in bot.session.middleware
        ):
            return await handler(event, data)
        query_id = query.id
        press = self._presses[query_id] = _Press(query.from_user.id)
        # A timer handle, not a task: nearly every press is answered long before it fires.
        timer = asyncio.get_running_loop().call_later(
            self._within, self._answer_late, bot, query_id, press
        )
        try:
            result = await handler(event, data)
        except BaseException:
            timer.cancel()
            # The error handler answers; its answer must still count as the second one.
            asyncio.get_running_loop().call_later(60.0, self._presses.pop, query_id, None)
            raise
        timer.cancel()
        try:
            if not press.answered:
                await self._answer(bot, query_id, press)
        finally:
            self._presses.pop(query_id, None)
        return result

    def _answer_late(self, bot: Bot, query_id: str, press: _Press) -> None:
        if press.answered:
            return
        log.info("button answered before its handler finished: user=%s", press.chat_id)
        task = asyncio.create_task(self._answer(bot, query_id, press))
        self._late_answers.add(task)
        task.add_done_callback(self._late_answers.discard)

    async def _answer(self, bot: Bot, query_id: str, press: _Press) -> None:
        # Through the session like any answer: `requests` marks the press answered.
        try:
            await bot.answer_callback_query(query_id)
        except TelegramAPIError as exc:
            log.warning("button answer failed: user=%s error=%s", press.chat_id, exc)

    def already_answered(self, query_id: str) -> _Press | None:
        """The press `query_id` if it has had its answer; else None, and it has one now."""
        press = self._presses.get(query_id)
        if press is None:
            return None
        if press.answered:
            return press
        press.answered = True
        return None


class _FirstAnswerOnly(BaseRequestMiddleware):
    def __init__(self, answers: CallbackAnswers) -> None:
        self._answers = answers

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        if isinstance(method, AnswerCallbackQuery):
            already = self._answers.already_answered(method.callback_query_id)
            if already is not None:
                if method.show_alert and method.text:
                    await bot.send_message(already.chat_id, method.text)
                log.info("second answer to a button not sent: user=%s", already.chat_id)
                return cast(Response[TelegramType], Response[bool](ok=True, result=True))
        return await make_request(bot, method)
