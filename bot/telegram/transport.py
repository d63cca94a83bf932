"""Telegram as a delivery transport: the only place the broadcast's Bot API calls and the
classification of aiogram's errors live (bot/delivery/ never imports aiogram).

Message parts carry Bot API MessageEntity dicts; they become aiogram objects here, once per
part object the engine holds (its variants are cached, so a campaign converts each part once).
Message ids cross the seam as strings (`deliveries.message_id` is text).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from aiogram import Bot
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods import Response
from aiogram.types import LinkPreviewOptions, Message, MessageEntity

from bot.config import Settings
from bot.content.models import MessagePart
from bot.delivery.engine import Sender
from bot.delivery.transport import Limits, Outcome, Result
from bot.telegram import render

PER_CHAT_INTERVAL = 1.0  # Telegram: no more than one message a second to the same chat
PAID_BROADCAST_RATE = 30.0  # above this, Telegram requires allow_paid_broadcast
PREPARED_CACHE_SIZE = 1024
# Telegram's answer when one text link's URL is one it can't parse: the whole message is refused.
_REFUSED_LINK = re.compile(r"entity URL '(.*)' is invalid", re.DOTALL)

log = logging.getLogger(__name__)

NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
# aiogram parses every reply as Response[<the method's return type>], a pydantic generic class
# that pydantic caches only weakly: the garbage collector drops it and the next reply rebuilds it
# (~10 ms of schema building, several times a second at broadcast rates). Holding the two the
# transport uses keeps them built.
_REPLY_MODELS = (Response[Message], Response[Message | bool])


def classify(exc: BaseException) -> Result:
    """A failed Bot API call as a delivery outcome."""
    text = exc.message if isinstance(exc, TelegramAPIError) else repr(exc)
    if isinstance(exc, TelegramRetryAfter):
        return Result.wait(float(exc.retry_after), text)
    if isinstance(exc, TelegramForbiddenError):
        return Result.blocked(text)
    if isinstance(exc, TelegramBadRequest):
        lowered = text.lower()
        if "chat not found" in lowered or "user not found" in lowered:
            return Result.blocked(text)
        return Result.permanent(text)
    # A body that is not Bot API JSON (a proxy's HTML 502 page during an incident) says nothing
    # about the message: an outage like any 5xx.
    if isinstance(exc, ClientDecodeError):
        return Result.transient("not a Bot API answer (an HTML error page?)")
    if isinstance(exc, TelegramNetworkError | TelegramServerError | TimeoutError):
        return Result.transient(text or type(exc).__name__)
    if isinstance(exc, TelegramUnauthorizedError):
        return Result.halt(text)
    return Result.permanent(text or type(exc).__name__)


def without_refused_link(part: MessagePart, error: str) -> MessagePart | None:
    """The part with the text link Telegram refused («entity URL '…' is invalid») left as
    plain text; None if the error is another one or names no link of the part."""
    match = _REFUSED_LINK.search(error)
    if match is None:
        return None
    kept = tuple(
        e for e in part.entities if not (e.get("type") == "text_link" and e.get("url") == match[1])
    )
    return replace(part, entities=kept) if len(kept) < len(part.entities) else None


def entities(part: MessagePart) -> list[MessageEntity] | None:
    return render.entities(part.entities) or None


@dataclass(frozen=True, slots=True)
class PreparedPart:
    """A message part ready for the wire: entities parsed into aiogram objects once."""

    text: str
    entities: list[MessageEntity] | None
    photo: str | None = None
    document: str | None = None


def prepare(part: MessagePart) -> PreparedPart:
    return PreparedPart(part.text, entities(part), part.photo, part.document)


def prepare_parts(parts: Iterable[MessagePart]) -> tuple[PreparedPart, ...]:
    return tuple(prepare(p) for p in parts)


async def send_media(
    bot: Bot, chat_id: int, part: MessagePart | PreparedPart, paid: bool | None = None
) -> Message:
    """A photo or document with the part's text as its caption."""
    if isinstance(part, MessagePart):
        part = prepare(part)
    caption = part.text or None
    caption_entities = part.entities if caption else None
    if part.photo is not None:
        return await bot.send_photo(
            chat_id=chat_id, photo=part.photo, caption=caption, parse_mode=None,
            caption_entities=caption_entities, allow_paid_broadcast=paid,
        )  # fmt: skip
    assert part.document is not None
    return await bot.send_document(
        chat_id=chat_id, document=part.document, caption=caption, parse_mode=None,
        caption_entities=caption_entities, allow_paid_broadcast=paid,
    )  # fmt: skip


class TelegramTransport:
    """Sends and edits message parts through a Bot; never raises for Telegram's answers."""

    def __init__(
        self,
        bot: Bot,
        *,
        rate: float,
        per_chat_interval: float = PER_CHAT_INTERVAL,
        paid_broadcast: bool = False,
    ) -> None:
        self.bot = bot
        self._limits = Limits(rate, per_chat_interval)
        self._paid = True if paid_broadcast else None  # None: the parameter is left out
        self._prepared: dict[int, tuple[MessagePart, PreparedPart]] = {}
        # Parts Telegram refused over a link, and what is sent instead (see _refused).
        self._substitutes: dict[int, tuple[MessagePart, MessagePart]] = {}

    @classmethod
    def from_settings(cls, bot: Bot, settings: Settings) -> TelegramTransport:
        """The broadcast's: SEND_RATE overall (from the settings), one a second per chat, and
        paid broadcasting above Telegram's free 30 a second."""
        rate = settings.send_rate
        return cls(bot, rate=rate, paid_broadcast=rate > PAID_BROADCAST_RATE)

    @property
    def limits(self) -> Limits:
        return self._limits

    def _prepare(self, part: MessagePart) -> PreparedPart:
        """The part with its entities as aiogram objects, converted once per part object."""
        cached = self._prepared.get(id(part))
        if cached is not None and cached[0] is part:
            return cached[1]
        if len(self._prepared) >= PREPARED_CACHE_SIZE:
            self._prepared.clear()
        prepared = prepare(part)
        self._prepared[id(part)] = (part, prepared)  # holding the part keeps its id unique
        return prepared

    def _substitute(self, part: MessagePart) -> MessagePart:
        found = self._substitutes.get(id(part))
        return found[1] if found is not None and found[0] is part else part

    def _refused(self, part: MessagePart, result: Result) -> Result:
        """A message Telegram refused over one link it can't parse (a campaign composed before
        links were checked, or a link the check let through) is not lost: the same message
        without that link (its text kept) goes to the rest of the campaign at once, and to
        this recipient at the engine's next try, which a transient outcome asks for."""
        if result.outcome is not Outcome.PERMANENT:
            return result
        original = self._substitute(part)
        plain = without_refused_link(original, result.error)
        if plain is None:
            return result
        if len(self._substitutes) >= PREPARED_CACHE_SIZE:
            self._substitutes.clear()
        self._substitutes[id(part)] = (part, plain)
        log.warning("a link Telegram refused is sent as plain text: %s", result.error)
        return Result.transient(f"sent again without the refused link: {result.error}")

    async def send(self, chat_id: int, part: MessagePart) -> Result:
        original, part = part, self._substitute(part)
        return self._refused(original, await self._send(chat_id, part))

    async def _send(self, chat_id: int, part: MessagePart) -> Result:
        prepared = self._prepare(part)
        try:
            if part.photo is not None or part.document is not None:
                message = await send_media(self.bot, chat_id, prepared, self._paid)
            else:
                message = await self.bot.send_message(
                    chat_id=chat_id,
                    text=part.text,
                    parse_mode=None,
                    entities=prepared.entities,
                    link_preview_options=NO_PREVIEW,
                    allow_paid_broadcast=self._paid,
                )
        except (TelegramAPIError, ClientDecodeError, TimeoutError) as exc:
            return classify(exc)
        return Result.sent(str(message.message_id))

    async def edit(self, chat_id: int, message_id: str, part: MessagePart) -> Result:
        """Already showing it ("message is not modified") is NOT_MODIFIED; a message Telegram no
        longer lets us edit (gone, or older than 48 hours in a private chat) is a plain
        BadRequest: PERMANENT, no retry. A refused link is handled as for sending."""
        original, part = part, self._substitute(part)
        return self._refused(original, await self._edit(chat_id, message_id, part))

    async def _edit(self, chat_id: int, message_id: str, part: MessagePart) -> Result:
        try:
            telegram_id = int(message_id)
        except ValueError:
            return Result.permanent(f"not a Telegram message id: {message_id!r}")
        parsed = self._prepare(part).entities
        try:
            if part.photo is not None or part.document is not None:
                caption = part.text or None
                await self.bot.edit_message_caption(
                    chat_id=chat_id, message_id=telegram_id, caption=caption,
                    parse_mode=None, caption_entities=parsed if caption else None,
                )  # fmt: skip
            else:
                await self.bot.edit_message_text(
                    chat_id=chat_id, message_id=telegram_id, text=part.text,
                    parse_mode=None, entities=parsed, link_preview_options=NO_PREVIEW,
                )  # fmt: skip
        except TelegramBadRequest as exc:
            if "message is not modified" in exc.message.lower():
                return Result.not_modified()
            return classify(exc)
        except (TelegramAPIError, ClientDecodeError, TimeoutError) as exc:
            return classify(exc)
        return Result.sent(message_id)


async def start_sender(bot: Bot, sender: Sender) -> None:
    """Dispatcher start-up: the sender starts draining the outbox through Telegram."""
    sender.start(TelegramTransport.from_settings(bot, sender.settings))
