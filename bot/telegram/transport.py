"""Telegram as a delivery transport: the only place the broadcast's Bot API calls and the
classification of aiogram's errors live (bot/delivery/ never imports aiogram).

Message parts carry Bot API MessageEntity dicts; they become aiogram objects here, once per
part object the engine holds (its variants are cached, so a campaign converts each part once).
Message ids cross the seam as strings (`deliveries.message_id` is text).
"""

from __future__ import annotations

import asyncio
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
from aiogram.types import InlineKeyboardMarkup, LinkPreviewOptions, Message, MessageEntity

from bot.config import Settings
from bot.content.formatting import BOT_LINK
from bot.content.models import MessagePart
from bot.delivery.engine import Sender
from bot.delivery.transport import Limits, Outcome, Result
from bot.telegram import keyboards, render

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


def has_bot_links(part: MessagePart) -> bool:
    return any(e.get("type") == BOT_LINK for e in part.entities)


def start_url(username: str | None, payload: object) -> str:
    """The link that opens the bot with a start payload (Telegram sends «/start payload»)."""
    return f"https://t.me/{username}?start={payload}"


def entities(part: MessagePart, username: str | None = None) -> list[MessageEntity] | None:
    """The part's entities as aiogram objects; a link into the bot (formatting.BotLink)
    becomes a t.me link with its payload, or plain text while the bot's name is unknown."""
    raw = part.entities
    if has_bot_links(part):
        raw = tuple(
            {"type": "text_link", "offset": e["offset"], "length": e["length"],
             "url": start_url(username, e.get("payload"))}
            if e.get("type") == BOT_LINK else e
            for e in raw
            if username is not None or e.get("type") != BOT_LINK
        )  # fmt: skip
    return render.entities(raw) or None


def preview_options(part: MessagePart) -> LinkPreviewOptions:
    """No preview, unless the part names a page or picture to show large above its text."""
    if part.preview_url is None:
        return NO_PREVIEW
    # is_disabled given: left out, aiogram would fill in the bot's default (previews off).
    return LinkPreviewOptions(
        is_disabled=False, url=part.preview_url, prefer_large_media=True, show_above_text=True
    )


@dataclass(frozen=True, slots=True)
class PreparedPart:
    """A message part ready for the wire: entities and buttons as aiogram objects, made once."""

    text: str
    entities: list[MessageEntity] | None
    photo: str | None = None
    document: str | None = None
    markup: InlineKeyboardMarkup | None = None
    preview: LinkPreviewOptions = NO_PREVIEW


def prepare(part: MessagePart, username: str | None = None) -> PreparedPart:
    return PreparedPart(
        part.text, entities(part, username), part.photo, part.document,
        keyboards.from_buttons(part.buttons), preview_options(part),
    )  # fmt: skip


def prepare_parts(
    parts: Iterable[MessagePart], username: str | None = None
) -> tuple[PreparedPart, ...]:
    return tuple(prepare(p, username) for p in parts)


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
            reply_markup=part.markup,
        )  # fmt: skip
    assert part.document is not None
    return await bot.send_document(
        chat_id=chat_id, document=part.document, caption=caption, parse_mode=None,
        caption_entities=caption_entities, allow_paid_broadcast=paid, reply_markup=part.markup,
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
        self._me_lock = asyncio.Lock()

    @classmethod
    def from_settings(cls, bot: Bot, settings: Settings) -> TelegramTransport:
        """The broadcast's: SEND_RATE overall (from the settings), one a second per chat, and
        paid broadcasting above Telegram's free 30 a second."""
        rate = settings.send_rate
        return cls(bot, rate=rate, paid_broadcast=rate > PAID_BROADCAST_RATE)

    @property
    def limits(self) -> Limits:
        return self._limits

    async def _username(self) -> str | None:
        """The bot's name, asked once even when a whole batch of sends needs it at once."""
        async with self._me_lock:
            return (await self.bot.me()).username

    async def _prepare(self, part: MessagePart) -> PreparedPart:
        """The part with its entities and buttons as aiogram objects, converted once per part
        object. Links into the bot need its name: asked of Telegram once (aiogram keeps it)."""
        cached = self._prepared.get(id(part))
        if cached is not None and cached[0] is part:
            return cached[1]
        username = await self._username() if has_bot_links(part) else None
        if len(self._prepared) >= PREPARED_CACHE_SIZE:
            self._prepared.clear()
        prepared = prepare(part, username)
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
        try:
            prepared = await self._prepare(part)
            if part.photo is not None or part.document is not None:
                message = await send_media(self.bot, chat_id, prepared, self._paid)
            else:
                message = await self.bot.send_message(
                    chat_id=chat_id,
                    text=part.text,
                    parse_mode=None,
                    entities=prepared.entities,
                    link_preview_options=prepared.preview,
                    allow_paid_broadcast=self._paid,
                    reply_markup=prepared.markup,
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
        try:
            prepared = await self._prepare(part)
            parsed = prepared.entities
            if part.photo is not None or part.document is not None:
                caption = part.text or None
                await self.bot.edit_message_caption(
                    chat_id=chat_id, message_id=telegram_id, caption=caption,
                    parse_mode=None, caption_entities=parsed if caption else None,
                    reply_markup=prepared.markup,
                )  # fmt: skip
            else:
                await self.bot.edit_message_text(
                    chat_id=chat_id, message_id=telegram_id, text=part.text,
                    parse_mode=None, entities=parsed, link_preview_options=prepared.preview,
                    reply_markup=prepared.markup,
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
