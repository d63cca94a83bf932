"""In-memory Telegram Bot API emulator for end-to-end tests and benchmarks.

The emulator is an aiohttp server that speaks enough of the Bot API for aiogram:
``Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(emulator.base_url)))``.
Tests play the user (``send_message``, ``press_button``, ``block_bot``), the bot receives
the resulting updates through ``getUpdates`` long polling, and the tests inspect what the
bot did through the recorded calls (``calls``, ``wait_for``, ``next_message``) and through
the emulator's copy of every chat (``messages``, with edits and deletions applied).

Everything lives in one asyncio loop: start the emulator in the loop the test runs in.
Run ``python -m tests.emulator --port 8081`` for a standalone server.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import html
import itertools
import json
import math
import re
import time
import urllib.parse
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from aiohttp import web

JSONDict = dict[str, Any]

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64

BLOCKED_DESCRIPTION = "Forbidden: bot was blocked by the user"
NOT_MODIFIED_DESCRIPTION = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
QUERY_INVALID_DESCRIPTION = (
    "Bad Request: query is too old and response timeout expired or query ID is invalid"
)

# Any well-formed token is accepted: "<digits>:<35 url-safe characters>".
_TOKEN_RE = re.compile(r"\d{1,20}:[A-Za-z0-9_-]{35}")
_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{1,64})?")
_BOT_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
_NUMBER_RE = re.compile(r"-?\d+(?:\.\d+)?")
_HTML_TAG_RE = re.compile(r"<(/?)([^\s<>/]*)([^<>]*)>|<")
_HTML_TAGS = frozenset(
    {
        "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler",
        "a", "code", "pre", "blockquote", "tg-emoji", "tg-time",
    }
)  # fmt: skip

# Form values under these keys are always plain strings, even when they look like JSON.
_STRING_KEYS = frozenset(
    {
        "text", "caption", "data", "callback_query_id", "parse_mode", "caption_parse_mode",
        "url", "description", "short_description", "name", "title", "language_code",
        "business_connection_id", "message_effect_id", "inline_message_id", "secret_token",
        "ip_address", "query", "file_id", "document", "photo", "video", "audio", "voice",
        "animation", "sticker", "thumbnail", "emoji", "action", "certificate",
    }
)  # fmt: skip
# Values that are JSON-serialised even inside application/json bodies by some clients.
_JSON_KEYS = frozenset(
    {
        "reply_markup", "entities", "caption_entities", "scope", "commands",
        "allowed_updates", "link_preview_options", "reply_parameters", "menu_button",
        "message_ids", "media", "rights",
    }
)  # fmt: skip

# Update types delivered when allowed_updates was never given or given as an empty list.
_NOT_DEFAULT_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
# Methods that produce a new message in chat_id: the ones next_message() reports.
_MESSAGE_METHODS = frozenset(
    {"sendMessage", "sendDocument", "sendPhoto", "copyMessage", "forwardMessage"}
)
# Message content that copyMessage / forwardMessage carry over.
_CONTENT_KEYS = (
    "text", "entities", "caption", "caption_entities", "document", "photo", "video",
    "audio", "voice", "animation", "sticker", "link_preview_options",
)  # fmt: skip
_MEDIA_KEYS = ("document", "photo", "video", "audio", "voice", "animation", "sticker")
_BUTTON_ACTIONS = frozenset(
    {
        "url", "callback_data", "web_app", "login_url", "switch_inline_query",
        "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text",
        "callback_game", "pay",
    }
)  # fmt: skip
# Required boolean fields of ChatMemberAdministrator / ChatMemberRestricted.
_ADMIN_FLAGS = (
    "can_be_edited", "is_anonymous", "can_manage_chat", "can_delete_messages",
    "can_manage_video_chats", "can_restrict_members", "can_promote_members", "can_change_info",
    "can_invite_users", "can_post_stories", "can_edit_stories", "can_delete_stories",
    "can_send_welcome_messages",
)  # fmt: skip
_RESTRICTED_FLAGS = (
    "is_member", "can_send_messages", "can_send_audios", "can_send_documents",
    "can_send_photos", "can_send_videos", "can_send_video_notes", "can_send_voice_notes",
    "can_send_polls", "can_send_other_messages", "can_add_web_page_previews",
    "can_react_to_messages", "can_edit_tag", "can_change_info", "can_invite_users",
    "can_pin_messages", "can_manage_topics",
)  # fmt: skip
_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request: injected failure",
    401: "Unauthorized",
    403: BLOCKED_DESCRIPTION,
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running",
    500: "Internal Server Error",
    502: "Bad Gateway",
}


@dataclass
class Call:
    """One recorded Bot API request and the emulator's reply to it."""

    method: str  # normalised as Telegram spells it, e.g. "sendMessage"
    params: dict[str, Any]  # JSON-decoded where a form value was JSON; files as UploadedFile
    token: str
    response: dict[str, Any]  # what the emulator replied
    at: float  # the emulator's clock (time.monotonic by default)
    # Made in the webhook's answer to this update (the bot never sees its result), not
    # requested by the bot.
    in_answer_to: int | None = None

    @property
    def ok(self) -> bool:
        return bool(self.response.get("ok"))

    @property
    def result(self) -> Any:
        return self.response.get("result")

    @property
    def chat_id(self) -> int | None:
        return _as_int(self.params.get("chat_id"))


@dataclass
class UploadedFile:
    """A file the bot uploaded (or a test registered with ``upload``)."""

    filename: str
    content: bytes
    mime_type: str = "application/octet-stream"
    file_id: str = ""
    file_unique_id: str = ""
    file_path: str = ""

    def as_document(self) -> JSONDict:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_name": self.filename,
            "mime_type": self.mime_type,
            "file_size": len(self.content),
        }

    def as_photo(self) -> list[JSONDict]:
        width, height = png_size(self.content) or (1280, 720)
        return [
            {
                "file_id": self.file_id,
                "file_unique_id": self.file_unique_id,
                "width": width,
                "height": height,
                "file_size": len(self.content),
            }
        ]


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PHOTO_MAX_BYTES = 10 * 1024 * 1024  # Telegram's limit for a photo sent by upload


def png_size(content: bytes) -> tuple[int, int] | None:
    """(width, height) from a PNG's IHDR chunk, or None if `content` isn't a PNG."""
    if len(content) < 24 or not content.startswith(PNG_SIGNATURE) or content[12:16] != b"IHDR":
        return None
    return int.from_bytes(content[16:20], "big"), int.from_bytes(content[20:24], "big")


class APIError(Exception):
    """An error reply; raised inside method handlers and turned into a response."""

    def __init__(
        self,
        status: int,
        description: str,
        retry_after: int | None = None,
        *,
        html_page: bool = False,
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after
        # Answer with a proxy's HTML error page instead of Bot API JSON (nginx in front of
        # Telegram does this during incidents).
        self.html_page = html_page

    def payload(self) -> JSONDict:
        data: JSONDict = {"ok": False, "error_code": self.status, "description": self.description}
        if self.retry_after is not None:
            data["parameters"] = {"retry_after": self.retry_after}
        return data


@dataclass
class _Injection:
    method: str  # lower-case method name or "*"
    status: int
    description: str
    retry_after: int | None
    chat_id: int | None
    remaining: int
    html_page: bool = False
    fault: str | None = None  # "reset" or "hang": no answer at all, instead of an error


class _FaultError(Exception):
    """No answer: the connection is reset, or the request hangs until the client gives up.
    Either way the request is not processed (nothing is sent)."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind

    def payload(self) -> JSONDict:
        description = "connection reset" if self.kind == "reset" else "no answer (hung)"
        return {"ok": False, "error_code": 0, "description": description}


@dataclass
class _Outage:
    """Every matching request fails until ``until`` (the emulator's clock)."""

    method: str  # lower-case method name or "*"
    until: float
    status: int
    description: str
    html_page: bool


@dataclass
class _Waiter:
    predicate: Callable[[Call], bool]
    future: asyncio.Future[tuple[int, Call]]


@dataclass
class _Bucket:
    """Token bucket: ``rate`` requests per second, bursts of up to max(1, rate)."""

    rate: float
    stamp: float
    tokens: float = field(init=False)
    capacity: float = field(init=False)

    def __post_init__(self) -> None:
        self.capacity = max(1.0, self.rate)
        self.tokens = self.capacity

    def wait(self, now: float) -> float:
        """Refill, then return 0 if a request may pass now, else seconds until it may."""
        elapsed = max(0.0, now - self.stamp)
        self.tokens = min(self.capacity, self.tokens + elapsed * self.rate)
        self.stamp = now
        if self.tokens >= 1.0:
            return 0.0
        return (1.0 - self.tokens) / self.rate


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            return int(value)
    return None


def _utf16_len(text: str) -> int:
    # A lone surrogate (it arrives as a "\\ud800" JSON escape) is one UTF-16 unit, as for Telegram.
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _decode_form_value(key: str, value: str) -> Any:
    """Form and query values are strings; complex ones are JSON, numbers and booleans too."""
    if key in _STRING_KEYS or not value:
        return value
    if value[0] in '{["' or value in ("true", "false", "null") or _NUMBER_RE.fullmatch(value):
        with contextlib.suppress(ValueError):
            return json.loads(value)
    return value


def _decode_json_value(key: str, value: Any) -> Any:
    if key in _JSON_KEYS and isinstance(value, str):
        with contextlib.suppress(ValueError):
            return json.loads(value)
    return value


def _attach(params: JSONDict, files: dict[str, UploadedFile]) -> JSONDict:
    """A form's files put where its values point to them (attach://name)."""
    if files:
        for key, value in params.items():
            if isinstance(value, str) and value.startswith("attach://"):
                attached = files.pop(value[len("attach://") :], None)
                if attached is not None:
                    params[key] = attached
        params.update(files)  # raw clients upload the file under the field name itself
    return params


def _html_visible_text(text: str) -> str:
    """Return what Telegram would display for HTML text; reject markup Telegram rejects."""
    if "<" not in text and "&" not in text:
        return text
    parts: list[str] = []
    stack: list[str] = []
    pos = 0
    for match in _HTML_TAG_RE.finditer(text):
        parts.append(text[pos : match.start()])
        pos = match.end()
        offset = len(text[: match.start()].encode())
        name = (match.group(2) or "").lower()
        if match.group(0) == "<":
            raise APIError(
                400,
                "Bad Request: can't parse entities: Unexpected character '<' "
                f"at byte offset {offset}",
            )
        if name not in _HTML_TAGS:
            kind = "end" if match.group(1) else "start"
            raise APIError(
                400,
                f'Bad Request: can\'t parse entities: Unsupported {kind} tag "{name}" '
                f"at byte offset {offset}",
            )
        if not match.group(1):
            stack.append(name)
        elif not stack or stack[-1] != name:
            expected = f'"{stack[-1]}"' if stack else "none"
            raise APIError(
                400,
                f'Bad Request: can\'t parse entities: Unmatched end tag "{name}" at byte '
                f"offset {offset}, expected end tag {expected}",
            )
        else:
            stack.pop()
    if stack:
        raise APIError(
            400,
            "Bad Request: can't parse entities: Can't find end tag corresponding to start "
            f'tag "{stack[-1]}"',
        )
    parts.append(text[pos:])
    return html.unescape("".join(parts))


_URL_HOST_CHARS = re.compile(r"[A-Za-z0-9._~-]|[^\x00-\x7f]")


def _url_problem(url: Any) -> str | None:
    """Why Telegram would refuse `url` as a text link's URL, in its words; None if it parses.

    Modelled on what the Bot API answers (tdlib's link check): a space or control character
    anywhere, a scheme other than http(s), a host that is empty, has empty labels, odd
    characters or no dot, a port outside 1–65535.
    """
    if not isinstance(url, str) or not url:
        return "Wrong HTTP URL"
    if any(c.isspace() or ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in url):
        return "Wrong HTTP URL"
    rest = url
    if "://" in url:
        scheme, rest = url.split("://", 1)
        if scheme.lower() not in ("http", "https"):
            return "Unsupported URL protocol"
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0].rsplit("@", 1)[-1]
    host, port = authority, None
    if authority.startswith("["):  # an IPv6 literal
        host, closed, after = authority[1:].partition("]")
        if not host or not closed or (after and not after.startswith(":")):
            return "Wrong HTTP URL"
        port = after[1:] if after else None
        if port is not None and not (port.isdigit() and 0 < int(port) < 65536):
            return "Wrong port number specified in the URL"
        return None
    if ":" in authority:
        host, port = authority.rsplit(":", 1)
        if not (port.isdigit() and 0 < int(port) < 65536):
            return "Wrong port number specified in the URL"
    labels = host.rstrip(".").split(".")
    if len(labels) < 2 or not all(labels):
        return "Wrong HTTP URL"
    if not all(_URL_HOST_CHARS.fullmatch(c) for c in host):
        return "Wrong HTTP URL"
    return None


def _check_entity_urls(entities: Any) -> None:
    """Telegram refuses the whole message over one text link whose URL it can't parse."""
    if not isinstance(entities, list):
        return
    for entity in entities:
        if isinstance(entity, dict) and entity.get("type") == "text_link":
            problem = _url_problem(entity.get("url"))
            if problem is not None:
                raise _error(
                    400, f"Bad Request: entity URL '{entity.get('url')}' is invalid: {problem}"
                )


def _visible_text(text: str, parse_mode: Any) -> str:
    if isinstance(parse_mode, str) and parse_mode.lower() == "html":
        return _html_visible_text(text)
    return text


_HTML_ERROR_PAGE = (
    "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
    "<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n"
    "</body>\r\n</html>\r\n"
)


def _error(status: int, description: str, retry_after: int | None = None) -> APIError:
    return APIError(status, description, retry_after)


class BotAPIEmulator:
    """Telegram Bot API emulator: an aiohttp server with all state in memory."""

    # Methods subject to flood control (set_flood_control).
    FLOOD_METHODS: frozenset[str] = frozenset(
        {"sendMessage", "sendDocument", "sendPhoto", "copyMessage"}
    )

    def __init__(
        self,
        *,
        bot_id: int = 100000,
        bot_username: str = "infozona_test_bot",
        clock: Callable[[], float] = time.monotonic,
        strict_chats: bool = True,
        keep_calls: bool = True,
    ) -> None:
        """
        :param clock: time source for ``Call.at`` and flood control (inject a fake in tests).
        :param strict_chats: when False, sends to unknown chats register them on the fly
            (useful for raw benchmark clients) instead of answering "chat not found".
        :param keep_calls: when False, calls are counted (``method_counts``) and still wake
            ``wait_for`` waiters, but are not kept in ``calls`` (bounded memory for benchmarks).
        """
        self.bot_id = bot_id
        self.bot_username = bot_username
        self.strict_chats = strict_chats
        self.keep_calls = keep_calls
        self._clock = clock

        self.base_url = ""
        self.token: str | None = None
        self.calls: list[Call] = []
        self.method_counts: Counter[str] = Counter()
        self.updates: list[JSONDict] = []  # every update ever enqueued, in order
        self.files: dict[str, UploadedFile] = {}  # by file_id
        self.webhook: JSONDict | None = None
        self.flood_rejections = 0

        self._bot_user: JSONDict = {
            "id": bot_id,
            "is_bot": True,
            "first_name": "Инфозона (тест)",
            "username": bot_username,
        }
        self._users: dict[int, JSONDict] = {}
        self._chats: dict[int, JSONDict] = {}
        self._usernames: dict[str, int] = {}
        self._msgs: dict[tuple[int, int], JSONDict] = {}  # every live message, by chat and id
        self._bot_msgs: dict[int, dict[int, JSONDict]] = {}  # bot messages per chat, in order
        self._last_mid: dict[int, int] = {}
        self._reply_keyboards: dict[int, JSONDict] = {}
        self._members: dict[tuple[int, int], str] = {}
        self._commands: dict[tuple[str, str], list[JSONDict]] = {}
        self._menu_buttons: dict[int | None, JSONDict] = {}
        # setMyDescription / setMyShortDescription, by language code ("" for all).
        self.descriptions: dict[str, str] = {}
        self.short_descriptions: dict[str, str] = {}

        self._pending: deque[JSONDict] = deque()
        self._update_ids = itertools.count(1)
        self._allowed: frozenset[str] | None = None
        self._update_event = asyncio.Event()
        self._poll_event = asyncio.Event()
        self._polls_pending = 0
        self._stopping = False

        self._callbacks: dict[str, JSONDict] = {}
        self._answered: set[str] = set()
        self._answers: dict[str, Call] = {}
        self._callback_ids = itertools.count(4_000_000_001)
        self._file_ids = itertools.count(1)
        self._file_paths: dict[str, UploadedFile] = {}

        self._total = 0  # absolute number of calls recorded so far
        self._mark = 0
        self._cursors: dict[int, int] = {}
        self._waiters: list[_Waiter] = []

        self._injections: list[_Injection] = []
        self._redirect_loops: set[str] = set()
        self._outages: list[_Outage] = []
        self._forbidden: dict[int, str] = {}
        self._flood_global: _Bucket | None = None
        self._flood_chat_rate: float | None = None
        self._flood_chats: dict[int, _Bucket] = {}

        self._runner: web.AppRunner | None = None
        # Webhook push mode (setWebhook with a URL): see _push_loop.
        self._pusher: asyncio.Task[None] | None = None
        self._push_wake = asyncio.Event()
        self._push_held: set[int] = set()
        self._push_error: tuple[int, str] | None = None
        self.push_retry_delay = 0.05
        self.push_timeout = 60.0
        self.pushes: list[tuple[int, int]] = []  # (update_id, HTTP status; 0: no answer)
        self._pushed = asyncio.Event()
        self._methods: dict[str, tuple[str, Callable[[JSONDict], Any]]] = {}
        for name, handler in self._handlers().items():
            self._methods[name.lower()] = (name, handler)
        self._send_methods = frozenset(
            name
            for name in (entry[0] for entry in self._methods.values())
            if name.startswith(("send", "copyMessage", "forwardMessage"))
        )

    # ------------------------------------------------------------------ lifecycle

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Start serving; return the base URL for ``TelegramAPIServer.from_base``."""
        if self._runner is not None:
            return self.base_url
        self._stopping = False
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        # handler_cancellation: a long poll the client gave up on (e.g. the dispatcher
        # stopped polling) is cancelled, so it no longer counts as a waiting poller.
        runner = web.AppRunner(
            app, access_log=None, shutdown_timeout=1.0, handler_cancellation=True
        )
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self._runner = runner
        bound_host, bound_port = runner.addresses[0][:2]
        self.base_url = f"http://{bound_host}:{bound_port}"
        return self.base_url

    async def stop(self) -> None:
        """Release pending long polls (they answer an empty list) and stop the server."""
        self._stopping = True
        self._wake_pollers()
        pusher, self._pusher = self._pusher, None
        if pusher is not None:
            pusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pusher
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> BotAPIEmulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # ------------------------------------------------------------------ the user side

    @property
    def bot_user(self) -> JSONDict:
        return dict(self._bot_user)

    def user(
        self,
        user_id: int,
        first_name: str = "Тест",
        username: str | None = None,
        language_code: str = "ru",
    ) -> JSONDict:
        """Register (or re-register) a user; their private chat id equals the user id."""
        user: JSONDict = {"id": user_id, "is_bot": False, "first_name": first_name}
        if username:
            user["username"] = username
            self._usernames[username.lower()] = user_id
        if language_code:
            user["language_code"] = language_code
        chat: JSONDict = {"id": user_id, "type": "private", "first_name": first_name}
        if username:
            chat["username"] = username
        self._users[user_id] = user
        self._chats[user_id] = chat
        return user

    def chat(
        self,
        chat_id: int,
        *,
        type: str = "supergroup",
        title: str = "Тестовый чат",
        username: str | None = None,
    ) -> JSONDict:
        """Register a group, supergroup or channel the bot can talk to."""
        chat: JSONDict = {"id": chat_id, "type": type, "title": title}
        if username:
            chat["username"] = username
            self._usernames[username.lower()] = chat_id
        self._chats[chat_id] = chat
        return chat

    def set_member(self, chat_id: int, user_id: int, status: str) -> None:
        """Set what getChatMember answers: creator/administrator/member/restricted/left/kicked."""
        self._members[(chat_id, user_id)] = status

    def upload(
        self, content: bytes, filename: str, mime_type: str = "application/octet-stream"
    ) -> JSONDict:
        """Register a file a user sends; returns a Document dict for send_message(document=)."""
        return self._store_file(
            UploadedFile(filename, content, mime_type), "document"
        ).as_document()

    def send_message(self, user_id: int, text: str, **extra: Any) -> JSONDict:
        """The user writes to the bot in their private chat; returns the Message dict.

        ``extra`` is merged into the message (forward_origin, document, photo, ...). With a
        media key present the text becomes the caption. "/cmd args" gets a bot_command entity.
        """
        user = self._users.get(user_id) or self.user(user_id)
        chat = self._chats[user_id]
        message: JSONDict = {
            "message_id": self._next_message_id(user_id),
            "from": user,
            "date": int(time.time()),
            "chat": chat,
        }
        has_media = any(key in extra for key in _MEDIA_KEYS)
        text_key, entities_key = (
            ("caption", "caption_entities") if has_media else ("text", "entities")
        )
        if text:
            message[text_key] = text
            command = _COMMAND_RE.match(text)
            if command and entities_key not in extra:
                message[entities_key] = [
                    {"type": "bot_command", "offset": 0, "length": _utf16_len(command.group())}
                ]
        for key, value in extra.items():
            message[key] = value
        if isinstance(message.get("document"), dict):
            message["document"] = self._complete_file(message["document"])
        photo = message.get("photo")
        if isinstance(photo, dict):
            photo = [photo]
        if isinstance(photo, list):
            message["photo"] = [
                {"width": 1280, "height": 720, **self._complete_file(size)} for size in photo
            ]
        self._msgs[(user_id, message["message_id"])] = message
        self._push_update("message", message)
        return message

    def press_button(
        self, user_id: int, message_id: int, data: str, chat_id: int | None = None
    ) -> str:
        """The user presses an inline button of a bot message; returns the callback query id.

        The message is looked up in the emulator's record of ``chat_id`` (default: the
        user's private chat) and ``data`` must be the callback_data of one of its current
        buttons; use ``press`` to send arbitrary (forged or stale) data.
        """
        cid = user_id if chat_id is None else chat_id
        message = self._bot_msgs.get(cid, {}).get(message_id)
        if message is None:
            known = sorted(self._bot_msgs.get(cid, {}))
            raise AssertionError(
                f"no bot message {message_id} in chat {cid}; bot messages there: {known}"
            )
        if data not in (button_data for _, button_data in self.buttons(message)):
            raise AssertionError(
                f"message {message_id} in chat {cid} has no button with callback_data "
                f"{data!r}; buttons: {self.buttons(message)}"
            )
        return self.press(user_id, message, data)

    def press(self, user_id: int, message: JSONDict, data: str) -> str:
        """Send a callback_query for ``message`` with any ``data``; returns the query id."""
        user = self._users.get(user_id) or self.user(user_id)
        query_id = str(next(self._callback_ids))
        chat_id = message.get("chat", {}).get("id", user_id)
        query: JSONDict = {
            "id": query_id,
            "from": user,
            "chat_instance": f"ci{chat_id}",
            "message": dict(message),
            "data": data,
        }
        self._callbacks[query_id] = query
        self._push_update("callback_query", query)
        return query_id

    def block_bot(self, user_id: int) -> None:
        """The user blocks the bot: my_chat_member member -> kicked; sends then get 403."""
        self._chat_member_update(user_id, "member", "kicked")
        self._forbidden[user_id] = BLOCKED_DESCRIPTION

    def unblock_bot(self, user_id: int) -> None:
        """The user unblocks the bot: my_chat_member kicked -> member; sends work again."""
        self._chat_member_update(user_id, "kicked", "member")
        self._forbidden.pop(user_id, None)

    # ------------------------------------------------------------------ what the bot did

    def messages(self, chat_id: int) -> list[JSONDict]:
        """Bot messages in the chat, in order, as they are now (edits and deletions applied)."""
        return [dict(message) for message in self._bot_msgs.get(chat_id, {}).values()]

    def last_message(self, chat_id: int) -> JSONDict:
        chat = self._bot_msgs.get(chat_id)
        if not chat:
            raise AssertionError(f"the bot has no messages in chat {chat_id}")
        return dict(next(reversed(chat.values())))

    def message(self, chat_id: int, message_id: int) -> JSONDict:
        """Any live message (bot's or user's) as it is now."""
        found = self._msgs.get((chat_id, message_id))
        if found is None:
            raise AssertionError(f"no message {message_id} in chat {chat_id}")
        return dict(found)

    def reply_keyboard(self, chat_id: int) -> JSONDict | None:
        """The reply keyboard currently shown in the chat (None after remove_keyboard)."""
        return self._reply_keyboards.get(chat_id)

    def my_commands(
        self, scope: JSONDict | None = None, language_code: str = ""
    ) -> list[JSONDict]:
        return list(self._commands.get(self._commands_key(scope, language_code), []))

    @staticmethod
    def buttons(message: JSONDict) -> list[tuple[str, str]]:
        """(text, callback_data) of every inline button, row by row; "" for non-callback ones."""
        markup = message.get("reply_markup") or {}
        return [
            (str(button.get("text", "")), str(button.get("callback_data", "")))
            for row in markup.get("inline_keyboard", [])
            for button in row
        ]

    def button_data(self, message: JSONDict, text_contains: str) -> str:
        """callback_data of the first button whose text contains ``text_contains``."""
        buttons = self.buttons(message)
        for text, data in buttons:
            if text_contains in text and data:
                return data
        raise AssertionError(
            f"no callback button containing {text_contains!r}; buttons: {buttons}"
        )

    def file_content(self, file: str | JSONDict) -> bytes:
        """Bytes of a file by file_id, or of the document/photo of a message dict."""
        if isinstance(file, dict):
            if "document" in file:
                file = str(file["document"]["file_id"])
            elif "photo" in file:
                file = str(file["photo"][-1]["file_id"])
            else:
                file = str(file.get("file_id", ""))
        stored = self.files.get(file)
        if stored is None:
            raise AssertionError(f"no file {file!r}")
        return stored.content

    def calls_of(self, method: str, chat_id: int | None = None) -> list[Call]:
        """Recorded calls of a method (any case), optionally only those to ``chat_id``."""
        name = self._canonical(method)
        return [
            call
            for call in self.calls
            if call.method == name and (chat_id is None or call.chat_id == chat_id)
        ]

    def mark(self) -> int:
        """Remember the current position; wait_for/next_message then look only past it."""
        self._mark = self._total
        return self._mark

    async def wait_for(
        self,
        predicate: Callable[[Call], bool],
        timeout: float = 5.0,  # noqa: ASYNC109 - the timeout is part of the test API
        *,
        after: int | None = None,
    ) -> Call:
        """First call after ``after`` (default: the latest mark) matching ``predicate``.

        Already recorded calls are checked first, then future ones are awaited.
        """
        start = self._mark if after is None else after
        return (await self._wait(predicate, start, timeout))[1]

    async def next_message(
        self,
        chat_id: int,
        timeout: float = 5.0,  # noqa: ASYNC109 - the timeout is part of the test API
    ) -> JSONDict:
        """The next message the bot sent to the chat after the latest mark.

        Successive calls return successive messages (a per-chat cursor that ``mark`` resets).
        Counts successful sendMessage/sendDocument/sendPhoto/copyMessage/forwardMessage.
        """

        def predicate(call: Call) -> bool:
            return call.method in _MESSAGE_METHODS and call.ok and call.chat_id == chat_id

        start = max(self._mark, self._cursors.get(chat_id, 0))
        index, call = await self._wait(predicate, start, timeout)
        self._cursors[chat_id] = index + 1
        result = call.result
        if call.method == "copyMessage":
            stored = self._msgs.get((chat_id, result["message_id"]))
            return dict(stored) if stored is not None else dict(result)
        return dict(result)

    async def answer_to(
        self,
        callback_id: str,
        timeout: float = 5.0,  # noqa: ASYNC109 - the timeout is part of the test API
    ) -> Call:
        """The (first) answerCallbackQuery call for that callback query, past or future."""
        found = self._answers.get(callback_id)
        if found is not None:
            return found

        def predicate(call: Call) -> bool:
            return call.method == "answerCallbackQuery" and (
                str(call.params.get("callback_query_id")) == callback_id
            )

        return (await self._wait(predicate, self._total, timeout))[1]

    async def wait_until_polling(
        self,
        timeout: float = 5.0,  # noqa: ASYNC109 - the timeout is part of the test API
    ) -> None:
        """Return once a getUpdates long poll is waiting (the bot is ready for updates)."""
        if self._polls_pending:
            return
        event = self._poll_event
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            raise TimeoutError(f"no getUpdates long poll within {timeout}s") from None

    # ------------------------------------------------------------------ failure injection

    def fail_next(
        self,
        method: str,
        *,
        status: int = 429,
        retry_after: int | None = None,
        description: str | None = None,
        chat_id: int | None = None,
        times: int = 1,
        html_page: bool = False,
    ) -> None:
        """The next ``times`` requests of ``method`` ("*" = any) get this error.

        With status 429 the reply always carries parameters.retry_after (default 1). With
        ``html_page`` the body is an nginx-style HTML error page, not JSON.
        """
        if status == 429 and retry_after is None:
            retry_after = 1
        if description is None:
            if status == 429:
                description = f"Too Many Requests: retry after {retry_after}"
            else:
                description = _DEFAULT_DESCRIPTIONS.get(status, f"Error {status}")
        name = "*" if method == "*" else method.lower()
        self._injections.append(
            _Injection(name, status, description, retry_after, chat_id, times, html_page)
        )

    def clear_failures(self) -> None:
        """Forget every pending ``fail_next`` injection: the incident is over."""
        self._injections.clear()

    def redirect_loop(self, method: str) -> None:
        """Requests of ``method`` answer 302 to their own URL, for ever: the client gives up
        with aiohttp's TooManyRedirects, whose text carries the URL (and so the token)."""
        self._redirect_loops.add(method.lower())

    def reset_next(self, method: str, *, chat_id: int | None = None, times: int = 1) -> None:
        """The next ``times`` requests of ``method`` ("*" = any) have their connection reset
        before they are processed: the client sees a network error, nothing is sent."""
        self._fault_next("reset", method, chat_id, times)

    def hang_next(self, method: str, *, chat_id: int | None = None, times: int = 1) -> None:
        """The next ``times`` requests of ``method`` ("*" = any) are never answered (nor
        processed): the client waits until its own timeout."""
        self._fault_next("hang", method, chat_id, times)

    def _fault_next(self, kind: str, method: str, chat_id: int | None, times: int) -> None:
        name = "*" if method == "*" else method.lower()
        self._injections.append(_Injection(name, 0, kind, None, chat_id, times, fault=kind))

    def outage(
        self,
        seconds: float,
        *,
        method: str = "*",
        status: int = 502,
        description: str | None = None,
        html_page: bool = False,
    ) -> None:
        """For ``seconds`` from now (the emulator's clock) every request of ``method``
        ("*" = any but getUpdates) fails with ``status`` (``html_page``: as a proxy's HTML
        page). Checked after the one-off injections."""
        name = "*" if method == "*" else method.lower()
        description = description or _DEFAULT_DESCRIPTIONS.get(status, f"Error {status}")
        self._outages.append(
            _Outage(name, self._clock() + seconds, status, description, html_page)
        )

    def forbid(self, chat_id: int, description: str = BLOCKED_DESCRIPTION) -> None:
        """Sends to the chat answer 403 with ``description`` until ``allow``."""
        self._forbidden[chat_id] = description

    def allow(self, chat_id: int) -> None:
        self._forbidden.pop(chat_id, None)

    def set_flood_control(
        self, *, global_per_sec: float | None = 30, per_chat_per_sec: float | None = 1
    ) -> None:
        """Telegram-like flood limits for FLOOD_METHODS (None disables a limit).

        Over the limit the reply is 429 with an integer retry_after >= 1; rejections are
        counted in ``flood_rejections``. Uses the injectable clock.
        """
        now = self._clock()
        self._flood_global = _Bucket(global_per_sec, now) if global_per_sec is not None else None
        self._flood_chat_rate = per_chat_per_sec
        self._flood_chats = {}

    # ------------------------------------------------------------------ HTTP plumbing

    async def _handle(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        requested = request.match_info["method"]
        entry = self._methods.get(requested.lower())
        method = entry[0] if entry is not None else requested
        if requested.lower() in self._redirect_loops:
            self._record(Call(method, {}, token, _error(302, "Found").payload(), self._clock()))
            return web.Response(status=302, headers={"Location": str(request.rel_url)})
        params: JSONDict = {}
        try:
            params = await self._read_params(request)
            if not _TOKEN_RE.fullmatch(token):
                raise _error(401, "Unauthorized")
            if entry is None:
                raise _error(404, "Not Found: method not found")
            self.token = token
            response: JSONDict = {"ok": True, "result": await self._invoke(method, params)}
            status = 200
        except _FaultError as fault:
            self._record(Call(method, params, token, fault.payload(), self._clock()))
            if fault.kind == "reset" and request.transport is not None:
                request.transport.abort()
            # Until aiohttp cancels this handler: the connection is gone (reset) or the client
            # gave up waiting (hang).
            await asyncio.Event().wait()
            raise AssertionError("unreachable") from None
        except APIError as error:
            if error.html_page:
                self._record(Call(method, params, token, error.payload(), self._clock()))
                return web.Response(
                    text=_HTML_ERROR_PAGE.format(status=error.status, reason=error.description),
                    status=error.status,
                    content_type="text/html",
                )
            response = error.payload()
            status = error.status
        except Exception as error:  # an emulator bug: answer like a Telegram server error
            response = _error(500, f"Internal Server Error: emulator bug: {error!r}").payload()
            status = 500
        self._record(Call(method, params, token, response, self._clock()))
        try:
            body = json.dumps(response, ensure_ascii=False).encode()
        except UnicodeEncodeError:
            # Lone surrogates can't be UTF-8: they travel as "\\ud800" escapes, as from Telegram.
            body = json.dumps(response).encode()
        return web.Response(
            body=body, status=status, content_type="application/json", charset="utf-8"
        )

    async def _invoke(self, method: str, params: JSONDict) -> Any:
        """A known method's result, or its APIError (faults, outages, limits, checks)."""
        if self._injections:
            self._check_injections(method, params)
        if self._outages:
            self._check_outages(method)
        if method in self._send_methods:
            self._gate(method, params)
        result = self._methods[method.lower()][1](params)
        if asyncio.iscoroutine(result):
            result = await result
        return result

    async def _perform_answer(self, update_id: int, fields: JSONDict) -> None:
        """A method the webhook's answer carried, performed as Telegram does: its result goes
        nowhere (the call is recorded with `in_answer_to`)."""
        method = self._canonical(str(fields.pop("method", "")))
        try:
            if method.lower() not in self._methods:
                raise _error(404, "Not Found: method not found")
            response: JSONDict = {"ok": True, "result": await self._invoke(method, fields)}
        except _FaultError as fault:
            response = fault.payload()
        except APIError as error:
            response = error.payload()
        self._record(Call(method, fields, self.token or "", response, self._clock(), update_id))

    async def _handle_file(self, request: web.Request) -> web.Response:
        stored = self._file_paths.get(request.match_info["path"])
        if stored is None:
            return web.Response(status=404, text="Not Found")
        return web.Response(body=stored.content, content_type=stored.mime_type)

    async def _read_params(self, request: web.Request) -> JSONDict:
        params: JSONDict = {
            key: _decode_form_value(key, value) for key, value in request.query.items()
        }
        if not request.can_read_body:
            return params
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise _error(400, "Bad Request: can't parse JSON body") from None
            if isinstance(body, dict):
                for key, value in body.items():
                    params[key] = _decode_json_value(key, value)
            return params
        form = await request.post()
        files: dict[str, UploadedFile] = {}
        for key, value in form.items():
            if isinstance(value, web.FileField):
                files[key] = UploadedFile(
                    filename=value.filename or key,
                    content=value.file.read(),
                    mime_type=value.content_type or "application/octet-stream",
                )
            elif isinstance(value, str):
                params[key] = _decode_form_value(key, value)
        return _attach(params, files)

    @staticmethod
    async def read_webhook_answer(response: Any) -> JSONDict:
        """The method a webhook's answer carries (JSON, or a form: aiogram writes a multipart
        one), or {} for an empty answer."""
        import aiohttp

        if response.content_type == "application/x-www-form-urlencoded":
            fields = urllib.parse.parse_qsl(await response.text(), keep_blank_values=True)
            decoded = {key: _decode_form_value(key, value) for key, value in fields}
            return decoded if "method" in decoded else {}
        if response.content_type == "application/json":
            body = await response.json()
            if not isinstance(body, dict) or "method" not in body:
                return {}
            return {key: _decode_json_value(key, value) for key, value in body.items()}
        if response.content_type != "multipart/form-data":
            await response.read()
            return {}
        params: JSONDict = {}
        files: dict[str, UploadedFile] = {}
        async for part in aiohttp.MultipartReader.from_response(response):
            if not isinstance(part, aiohttp.BodyPartReader) or part.name is None:
                continue
            if part.filename:
                files[part.name] = UploadedFile(
                    filename=part.filename,
                    content=bytes(await part.read(decode=True)),
                    mime_type=part.headers.get("Content-Type", "application/octet-stream"),
                )
            else:
                params[part.name] = _decode_form_value(part.name, await part.text())
        return _attach(params, files) if "method" in params else {}

    def _record(self, call: Call) -> None:
        index = self._total
        self._total += 1
        if self.keep_calls:
            self.calls.append(call)
        self.method_counts[call.method] += 1
        if call.method == "answerCallbackQuery":
            self._answers.setdefault(str(call.params.get("callback_query_id")), call)
        if self._waiters:
            for waiter in self._waiters:
                if waiter.future.done():
                    continue
                try:
                    if waiter.predicate(call):
                        waiter.future.set_result((index, call))
                except Exception as error:  # a broken predicate fails its waiter only
                    waiter.future.set_exception(error)

    async def _wait(
        self,
        predicate: Callable[[Call], bool],
        start: int,
        timeout: float,  # noqa: ASYNC109 - callers pass the test API's timeout through
    ) -> tuple[int, Call]:
        for index, call in self._recorded_since(start):
            if predicate(call):
                return index, call
        future: asyncio.Future[tuple[int, Call]] = asyncio.get_running_loop().create_future()
        waiter = _Waiter(predicate, future)
        self._waiters.append(waiter)
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            raise TimeoutError(self._timeout_summary(start, timeout)) from None
        finally:
            self._waiters.remove(waiter)

    def _recorded_since(self, start: int) -> Iterator[tuple[int, Call]]:
        base = self._total - len(self.calls)  # absolute index of calls[0]
        for index in range(max(start, base), self._total):
            yield index, self.calls[index - base]

    def _timeout_summary(self, start: int, timeout: float) -> str:
        recent = list(self._recorded_since(start))
        lines = [
            f"no matching call within {timeout}s; {len(recent)} call(s) since index {start}"
            + (", the last ones:" if recent else "")
        ]
        for index, call in recent[-15:]:
            outcome = "ok" if call.ok else f"{call.response.get('error_code')} "
            if not call.ok:
                outcome += str(call.response.get("description"))
            details = [f"chat_id={call.params['chat_id']}"] if "chat_id" in call.params else []
            details.extend(
                f"{key}={str(call.params[key])[:60]!r}"
                for key in ("message_id", "text", "caption", "callback_query_id")
                if key in call.params
            )
            lines.append(f"  #{index} {call.method} {' '.join(details)} -> {outcome}")
        return "\n".join(lines)

    def _canonical(self, method: str) -> str:
        entry = self._methods.get(method.lower())
        return entry[0] if entry is not None else method

    def _check_injections(self, method: str, params: JSONDict) -> None:
        name = method.lower()
        for injection in self._injections:
            if injection.method not in ("*", name):
                continue
            if (
                injection.chat_id is not None
                and _as_int(params.get("chat_id")) != injection.chat_id
            ):
                continue
            injection.remaining -= 1
            if injection.remaining <= 0:
                self._injections.remove(injection)
            if injection.fault is not None:
                raise _FaultError(injection.fault)
            raise APIError(
                injection.status,
                injection.description,
                injection.retry_after,
                html_page=injection.html_page,
            )

    def _check_outages(self, method: str) -> None:
        now = self._clock()
        self._outages = [outage for outage in self._outages if outage.until > now]
        name = method.lower()
        for outage in self._outages:
            if outage.method == name or (outage.method == "*" and name != "getupdates"):
                raise APIError(outage.status, outage.description, html_page=outage.html_page)

    def _gate(self, method: str, params: JSONDict) -> None:
        """Checks every send goes through: chat exists, bot not blocked, flood limits."""
        chat_id = self._chat(params)["id"]
        forbidden = self._forbidden.get(chat_id)
        if forbidden is not None:
            raise _error(403, forbidden)
        if method not in self.FLOOD_METHODS:
            return
        if self._flood_global is None and self._flood_chat_rate is None:
            return
        now = self._clock()
        chat_bucket: _Bucket | None = None
        wait = 0.0
        if self._flood_chat_rate is not None:
            chat_bucket = self._flood_chats.get(chat_id)
            if chat_bucket is None:
                chat_bucket = self._flood_chats[chat_id] = _Bucket(self._flood_chat_rate, now)
            wait = chat_bucket.wait(now)
        if self._flood_global is not None:
            wait = max(wait, self._flood_global.wait(now))
        if wait > 0:
            self.flood_rejections += 1
            retry_after = max(1, math.ceil(wait))
            raise _error(429, f"Too Many Requests: retry after {retry_after}", retry_after)
        if chat_bucket is not None:
            chat_bucket.tokens -= 1.0
        if self._flood_global is not None:
            self._flood_global.tokens -= 1.0

    # ------------------------------------------------------------------ state helpers

    def _push_update(self, kind: str, payload: JSONDict) -> JSONDict:
        update: JSONDict = {"update_id": next(self._update_ids), kind: payload}
        self._pending.append(update)
        self.updates.append(update)
        self._wake_pollers()
        return update

    def _wake_pollers(self) -> None:
        # Waiters hold the old event; a fresh one is armed for the next long poll.
        self._update_event.set()
        self._update_event = asyncio.Event()
        self._push_wake.set()

    def add_bot_to_chat(self, chat_id: int, by_user_id: int) -> None:
        """Someone adds the bot to a group registered with chat(): my_chat_member left ->
        member in that chat."""
        self._chat_member_update(by_user_id, "left", "member", chat_id=chat_id)

    def _chat_member_update(
        self, user_id: int, old: str, new: str, *, chat_id: int | None = None
    ) -> None:
        user = self._users.get(user_id) or self.user(user_id)
        bot = dict(self._bot_user)
        new_member: JSONDict = {"status": new, "user": bot}
        if new == "kicked":
            new_member["until_date"] = 0
        old_member: JSONDict = {"status": old, "user": bot}
        if old == "kicked":
            old_member["until_date"] = 0
        self._push_update(
            "my_chat_member",
            {
                "chat": self._chats[user_id if chat_id is None else chat_id],
                "from": user,
                "date": int(time.time()),
                "old_chat_member": old_member,
                "new_chat_member": new_member,
            },
        )

    def _next_message_id(self, chat_id: int) -> int:
        message_id = self._last_mid.get(chat_id, 0) + 1
        self._last_mid[chat_id] = message_id
        return message_id

    def _chat(self, params: JSONDict, key: str = "chat_id") -> JSONDict:
        raw = params.get(key)
        if raw is None or raw == "":
            raise _error(400, f"Bad Request: {key} is empty")
        chat_id = _as_int(raw)
        if chat_id is None and isinstance(raw, str) and raw.startswith("@"):
            chat_id = self._usernames.get(raw[1:].lower())
        chat = self._chats.get(chat_id) if chat_id is not None else None
        if chat is None:
            if chat_id is None or self.strict_chats:
                raise _error(400, "Bad Request: chat not found")
            if chat_id > 0:
                self.user(chat_id)
                chat = self._chats[chat_id]
            else:
                chat = self.chat(chat_id, type="supergroup")
        return chat

    def _complete_file(self, data: JSONDict) -> JSONDict:
        if data.get("file_id") and data.get("file_unique_id"):
            return data
        number = next(self._file_ids)
        return {"file_id": f"emu-file-{number}", "file_unique_id": f"emu-u{number}", **data}

    def _store_file(self, upload: UploadedFile, kind: str) -> UploadedFile:
        number = next(self._file_ids)
        upload.file_id = f"emu-{kind}-{number}"
        upload.file_unique_id = f"emu-u{number}"
        suffix = ""
        if "." in upload.filename:
            suffix = "." + upload.filename.rsplit(".", 1)[1]
        upload.file_path = f"{kind}s/file_{number}{suffix}"
        self.files[upload.file_id] = upload
        self._file_paths[upload.file_path] = upload
        return upload

    def _new_bot_message(self, chat: JSONDict, content: JSONDict, params: JSONDict) -> JSONDict:
        chat_id = chat["id"]
        message: JSONDict = {
            "message_id": self._next_message_id(chat_id),
            "from": self._bot_user,
            "chat": chat,
            "date": int(time.time()),
        }
        reply_to = self._reply_to(chat_id, params)
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        message.update(content)
        markup = self._apply_markup(chat_id, params.get("reply_markup"))
        if markup is not None:
            message["reply_markup"] = markup
        if params.get("protect_content") is True:
            message["has_protected_content"] = True
        self._msgs[(chat_id, message["message_id"])] = message
        self._bot_msgs.setdefault(chat_id, {})[message["message_id"]] = message
        return message

    def _reply_to(self, chat_id: int, params: JSONDict) -> JSONDict | None:
        reply = params.get("reply_parameters")
        if not isinstance(reply, dict):
            legacy = _as_int(params.get("reply_to_message_id"))
            if legacy is None:
                return None
            reply = {
                "message_id": legacy,
                "allow_sending_without_reply": params.get("allow_sending_without_reply"),
            }
        source_chat = _as_int(reply.get("chat_id")) or chat_id
        found = self._msgs.get((source_chat, _as_int(reply.get("message_id")) or 0))
        if found is None:
            if reply.get("allow_sending_without_reply") is True:
                return None
            raise _error(400, "Bad Request: message to be replied not found")
        snapshot = dict(found)
        snapshot.pop("reply_to_message", None)
        return snapshot

    def _apply_markup(self, chat_id: int, markup: Any) -> JSONDict | None:
        """Remember reply keyboards per chat; return the inline keyboard to store, if any."""
        if not isinstance(markup, dict):
            return None
        if "keyboard" in markup:
            self._reply_keyboards[chat_id] = markup
            return None
        if markup.get("remove_keyboard"):
            self._reply_keyboards.pop(chat_id, None)
            return None
        return self._inline_markup(markup)

    @staticmethod
    def _inline_markup(markup: Any) -> JSONDict | None:
        if not isinstance(markup, dict):
            return None
        keyboard = markup.get("inline_keyboard")
        if not keyboard:
            return None
        if not isinstance(keyboard, list) or not all(isinstance(row, list) for row in keyboard):
            raise _error(
                400, "Bad Request: can't parse inline keyboard button: field is not array"
            )
        for row in keyboard:
            for button in row:
                if not isinstance(button, dict) or not button.get("text"):
                    raise _error(
                        400, "Bad Request: text buttons are unallowed in the inline keyboard"
                    )
                if not _BUTTON_ACTIONS.intersection(button):
                    raise _error(
                        400, "Bad Request: text buttons are unallowed in the inline keyboard"
                    )
                data = button.get("callback_data")
                if data is not None and not (0 < len(str(data).encode()) <= CALLBACK_DATA_LIMIT):
                    raise _error(400, "Bad Request: BUTTON_DATA_INVALID")
        return markup

    @staticmethod
    def _check_text(params: JSONDict) -> str:
        text = params.get("text")
        if not isinstance(text, str):
            text = "" if text is None else str(text)
        visible = _visible_text(text, params.get("parse_mode"))
        if not visible.strip():
            raise _error(400, "Bad Request: message text is empty")
        if len(visible) > TEXT_LIMIT:
            raise _error(400, "Bad Request: message is too long")
        return text

    @staticmethod
    def _check_caption(params: JSONDict) -> str | None:
        caption = params.get("caption")
        if caption is None or caption == "":
            return None
        caption = str(caption)
        if len(_visible_text(caption, params.get("parse_mode"))) > CAPTION_LIMIT:
            raise _error(400, "Bad Request: message caption is too long")
        return caption

    def _editable(self, params: JSONDict) -> JSONDict:
        if params.get("inline_message_id"):
            raise _error(400, "Bad Request: MESSAGE_ID_INVALID")
        chat_id = self._chat(params)["id"]
        message_id = _as_int(params.get("message_id"))
        if message_id is None:
            raise _error(400, "Bad Request: message identifier is not specified")
        message = self._msgs.get((chat_id, message_id))
        if message is None:
            raise _error(400, "Bad Request: message to edit not found")
        if message.get("from", {}).get("id") != self.bot_id:
            raise _error(400, "Bad Request: message can't be edited")
        return message

    @staticmethod
    def _set(message: JSONDict, key: str, value: Any) -> None:
        if value:
            message[key] = value
        else:
            message.pop(key, None)

    def _resolve_file(self, value: Any, kind: str) -> UploadedFile:
        if isinstance(value, UploadedFile):
            return self._store_file(value, kind)
        if isinstance(value, str) and value:
            if value in self.files:
                return self.files[value]
            if value.startswith(("http://", "https://")):
                name = value.rstrip("/").rsplit("/", 1)[-1] or kind
                return self._store_file(UploadedFile(name, b""), kind)
            raise _error(400, "Bad Request: wrong file identifier/HTTP URL specified")
        raise _error(400, f"Bad Request: there is no {kind} in the request")

    @staticmethod
    def _commands_key(scope: Any, language_code: Any) -> tuple[str, str]:
        if not isinstance(scope, dict):
            scope = {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(language_code or "")

    def _member(self, chat_id: int, user_id: int) -> JSONDict:
        chat = self._chats[chat_id]
        status = self._members.get((chat_id, user_id))
        if status is None:
            if chat["type"] == "private" or user_id == self.bot_id:
                status = "administrator" if chat["type"] != "private" else "member"
            else:
                status = "left"
        if user_id == self.bot_id:
            user = dict(self._bot_user)
        else:
            user = self._users.get(user_id) or {
                "id": user_id,
                "is_bot": False,
                "first_name": "User",
            }
        member: JSONDict = {"status": status, "user": user}
        if status == "creator":
            member["is_anonymous"] = False
        elif status == "administrator":
            member.update(dict.fromkeys(_ADMIN_FLAGS, False))
            member.update(can_manage_chat=True, can_delete_messages=True, can_invite_users=True)
        elif status == "restricted":
            member.update(dict.fromkeys(_RESTRICTED_FLAGS, False), is_member=True, until_date=0)
        elif status == "kicked":
            member["until_date"] = 0
        return member

    # ------------------------------------------------------------------ Bot API methods

    def _handlers(self) -> dict[str, Callable[[JSONDict], Any]]:
        return {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "setChatMenuButton": self._set_chat_menu_button,
            "getChatMenuButton": self._get_chat_menu_button,
            "sendMessage": self._send_message,
            "sendDocument": self._send_document,
            "sendPhoto": self._send_photo,
            "sendChatAction": self._true,
            "copyMessage": self._copy_message,
            "forwardMessage": self._forward_message,
            "editMessageText": self._edit_message_text,
            "editMessageCaption": self._edit_message_caption,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "deleteMessages": self._delete_messages,
            "answerCallbackQuery": self._answer_callback_query,
            "getChat": self._get_chat,
            "getChatMember": self._get_chat_member,
            "getFile": self._get_file,
            "setMyDescription": self._set_my_description,
            "getMyDescription": self._get_my_description,
            "setMyShortDescription": self._set_my_short_description,
            "getMyShortDescription": self._get_my_short_description,
            "setMyName": self._true,
            "close": self._true,
            "logOut": self._true,
        }

    @staticmethod
    def _true(params: JSONDict) -> bool:
        return True

    def _get_me(self, params: JSONDict) -> JSONDict:
        return {
            **self._bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, params: JSONDict) -> list[JSONDict]:
        if self.webhook is not None:
            raise _error(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = _as_int(params.get("offset")) or 0
        limit = min(max(_as_int(params.get("limit")) or 100, 1), 100)
        raw_timeout = params.get("timeout")
        timeout = float(raw_timeout) if isinstance(raw_timeout, int | float) else 0.0
        timeout = max(timeout, 0.0)
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed = frozenset(map(str, allowed)) if allowed else None
        # Confirm: updates below a positive offset are forgotten; -N keeps the last N.
        if offset > 0:
            while self._pending and self._pending[0]["update_id"] < offset:
                self._pending.popleft()
        elif offset < 0:
            while len(self._pending) > -offset:
                self._pending.popleft()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            batch = self._collect(limit)
            remaining = deadline - loop.time()
            if batch or self._stopping or remaining <= 0:
                return batch
            event = self._update_event
            self._polls_pending += 1
            self._poll_event.set()
            self._poll_event = asyncio.Event()
            try:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), remaining)
            finally:
                self._polls_pending -= 1

    def _is_allowed(self, update: JSONDict) -> bool:
        kind = next(key for key in update if key != "update_id")
        if self._allowed is None:
            return kind not in _NOT_DEFAULT_UPDATES
        return kind in self._allowed

    def _collect(self, limit: int) -> list[JSONDict]:
        batch: list[JSONDict] = []
        dropped = False
        for update in self._pending:
            if not self._is_allowed(update):
                dropped = True
                continue
            batch.append(update)
            if len(batch) >= limit:
                break
        if dropped:  # Telegram does not keep updates of types the bot did not ask for
            self._pending = deque(update for update in self._pending if self._is_allowed(update))
        return batch

    def _set_webhook(self, params: JSONDict) -> bool:
        url = params.get("url")
        self.webhook = {key: value for key, value in params.items() if key != "certificate"}
        if not url:
            self.webhook = None
            self._stop_pushing()
            return True
        if params.get("drop_pending_updates") is True:
            self._pending.clear()
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed = frozenset(map(str, allowed)) if allowed else None
        self._start_pushing()
        return True

    def _delete_webhook(self, params: JSONDict) -> bool:
        self.webhook = None
        self._stop_pushing()
        if params.get("drop_pending_updates") is True:
            self._pending.clear()
        return True

    def _get_webhook_info(self, params: JSONDict) -> JSONDict:
        info: JSONDict = {
            "url": str((self.webhook or {}).get("url", "")),
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if self.webhook is not None:
            info["max_connections"] = int(self.webhook.get("max_connections") or 40)
            if isinstance(self.webhook.get("allowed_updates"), list):
                info["allowed_updates"] = self.webhook["allowed_updates"]
        if self._push_error is not None:
            info["last_error_date"], info["last_error_message"] = self._push_error
        return info

    # ------------------------------------------------------------------ webhook push mode
    # As Telegram does once setWebhook has a URL: every pending update is POSTed to it as
    # JSON, with X-Telegram-Bot-Api-Secret-Token when a secret_token was set; one update per
    # chat in flight (the chat's next one waits for the answer), up to max_connections at
    # once; whatever is not answered 200 stays pending and is sent again (after
    # `push_retry_delay`), before that chat's later updates. A method in a 200 answer (JSON or
    # a form with "method") is performed, its result unseen by the bot. Loopback URLs only.

    def _start_pushing(self) -> None:
        if self._pusher is None or self._pusher.done():
            self._pusher = asyncio.create_task(self._push_loop(), name="emulator-webhook-push")
        self._push_wake.set()

    async def wait_for_push(
        self,
        status: int | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109 - the timeout is part of the test API
    ) -> tuple[int, int]:
        """The first push so far (or to come) answered `status` (0: no answer; None: any)."""
        async with asyncio.timeout(timeout):
            while True:
                for push in self.pushes:
                    if status is None or push[1] == status:
                        return push
                await self._pushed.wait()

    async def wait_pushes(
        self,
        count: int,
        timeout: float = 5.0,  # noqa: ASYNC109 - the timeout is part of the test API
        *,
        status: int | None = None,
    ) -> None:
        """Until `count` pushes have had their answer (or none), or `status` for an answer."""
        async with asyncio.timeout(timeout):
            while sum(1 for _, got in self.pushes if status in (None, got)) < count:
                await self._pushed.wait()

    def stop_pushing(self) -> None:
        """Stop pushing (the webhook stays set; updates stay pending)."""
        self._stop_pushing()

    def _stop_pushing(self) -> None:
        pusher, self._pusher = self._pusher, None
        if pusher is not None:
            pusher.cancel()

    @staticmethod
    def _update_chat(update: JSONDict) -> object:
        """The chat an update belongs to (its order is kept per chat); else the update."""
        payload = next(value for key, value in update.items() if key != "update_id")
        if isinstance(payload, dict):
            for holder in (payload, payload.get("message")):
                if isinstance(holder, dict) and isinstance(holder.get("chat"), dict):
                    return holder["chat"].get("id")
            sender = payload.get("from")
            if isinstance(sender, dict):
                return sender.get("id")
        return ("update", update["update_id"])

    async def _push_loop(self) -> None:
        import aiohttp

        in_flight: dict[object, asyncio.Task[None]] = {}
        async with aiohttp.ClientSession() as session:
            try:
                while self.webhook is not None and not self._stopping:
                    self._push_wake.clear()
                    limit = int(self.webhook.get("max_connections") or 40)
                    if not all(map(self._is_allowed, self._pending)):
                        # Telegram does not keep updates of types the bot did not ask for.
                        self._pending = deque(filter(self._is_allowed, self._pending))
                    heads: dict[object, JSONDict] = {}
                    for update in self._pending:
                        chat = self._update_chat(update)
                        heads.setdefault(chat, update)
                    for chat, update in heads.items():
                        if len(in_flight) >= limit:
                            break
                        if chat in in_flight or update["update_id"] in self._push_held:
                            continue
                        in_flight[chat] = asyncio.create_task(
                            self._push_one(session, update, chat, in_flight)
                        )
                    await self._push_wake.wait()
            finally:
                for task in in_flight.values():
                    task.cancel()
                await asyncio.gather(*in_flight.values(), return_exceptions=True)

    async def _push_one(
        self,
        session: Any,
        update: JSONDict,
        chat: object,
        in_flight: dict[object, asyncio.Task[None]],
    ) -> None:
        import aiohttp
        from yarl import URL

        webhook = self.webhook or {}
        url = URL(str(webhook.get("url", "")))
        headers = {}
        if webhook.get("secret_token"):
            headers["X-Telegram-Bot-Api-Secret-Token"] = str(webhook["secret_token"])
        status = 0
        error = ""
        answer: JSONDict = {}
        try:
            if url.host not in {"127.0.0.1", "localhost", "::1"}:
                error = "the emulator pushes to loopback addresses only"
            else:
                async with asyncio.timeout(self.push_timeout):
                    async with session.post(url, json=update, headers=headers) as response:
                        if response.status == 200:
                            answer = await self.read_webhook_answer(response)
                        else:
                            await response.read()
                        status = response.status
                        error = f"Wrong response from the webhook: {status} {response.reason}"
        except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as exc:
            status, answer = 0, {}  # an answer cut short is no answer
            error = f"Connection failed: {type(exc).__name__}"
        finally:
            in_flight.pop(chat, None)
        if answer:
            await self._perform_answer(update["update_id"], answer)
        self.pushes.append((update["update_id"], status))
        self._pushed.set()
        self._pushed = asyncio.Event()
        if status == 200:
            with contextlib.suppress(ValueError):
                self._pending.remove(update)
        else:
            self._push_error = (int(time.time()), error)
            # Sent again after a pause; the chat's later updates wait behind it.
            self._push_held.add(update["update_id"])
            await asyncio.sleep(self.push_retry_delay)
            self._push_held.discard(update["update_id"])
        self._push_wake.set()
        self._wake_pollers()

    def _set_my_commands(self, params: JSONDict) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _error(400, "Bad Request: commands is empty")
        for command in commands:
            name = str(command.get("command", "")) if isinstance(command, dict) else ""
            description = str(command.get("description", "")) if isinstance(command, dict) else ""
            if not _BOT_COMMAND_RE.fullmatch(name):
                raise _error(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(description) <= 256:
                raise _error(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._commands_key(params.get("scope"), params.get("language_code"))
        self._commands[key] = [
            {"command": command["command"], "description": command["description"]}
            for command in commands
        ]
        return True

    @staticmethod
    def _described(store: dict[str, str], params: JSONDict, key: str, limit: int) -> bool:
        text = str(params.get(key) or "")
        if len(text) > limit:
            raise _error(400, f"Bad Request: {key} is too long")
        language = str(params.get("language_code") or "")
        if text:
            store[language] = text
        else:
            store.pop(language, None)
        return True

    def _set_my_description(self, params: JSONDict) -> bool:
        return self._described(self.descriptions, params, "description", 512)

    def _get_my_description(self, params: JSONDict) -> JSONDict:
        language = str(params.get("language_code") or "")
        return {"description": self.descriptions.get(language, "")}

    def _set_my_short_description(self, params: JSONDict) -> bool:
        return self._described(self.short_descriptions, params, "short_description", 120)

    def _get_my_short_description(self, params: JSONDict) -> JSONDict:
        language = str(params.get("language_code") or "")
        return {"short_description": self.short_descriptions.get(language, "")}

    def _get_my_commands(self, params: JSONDict) -> list[JSONDict]:
        key = self._commands_key(params.get("scope"), params.get("language_code"))
        return list(self._commands.get(key, []))

    def _delete_my_commands(self, params: JSONDict) -> bool:
        self._commands.pop(
            self._commands_key(params.get("scope"), params.get("language_code")), None
        )
        return True

    def _set_chat_menu_button(self, params: JSONDict) -> bool:
        chat_id = self._chat(params)["id"] if params.get("chat_id") else None
        button = params.get("menu_button")
        if isinstance(button, dict):
            self._menu_buttons[chat_id] = button
        else:
            self._menu_buttons.pop(chat_id, None)
        return True

    def _get_chat_menu_button(self, params: JSONDict) -> JSONDict:
        chat_id = self._chat(params)["id"] if params.get("chat_id") else None
        return (
            self._menu_buttons.get(chat_id) or self._menu_buttons.get(None) or {"type": "default"}
        )

    def _send_message(self, params: JSONDict) -> JSONDict:
        chat = self._chat(params)
        content: JSONDict = {"text": self._check_text(params)}
        entities = params.get("entities")
        _check_entity_urls(entities)
        if entities:
            content["entities"] = entities
        preview = params.get("link_preview_options")
        if isinstance(preview, dict) and preview:
            content["link_preview_options"] = preview
        return dict(self._new_bot_message(chat, content, params))

    def _send_media(self, params: JSONDict, kind: str) -> JSONDict:
        chat = self._chat(params)
        caption = self._check_caption(params)
        _check_entity_urls(params.get("caption_entities"))
        upload = self._resolve_file(params.get(kind), kind)
        content: JSONDict = {kind: upload.as_photo() if kind == "photo" else upload.as_document()}
        if caption is not None:
            content["caption"] = caption
            if params.get("caption_entities"):
                content["caption_entities"] = params["caption_entities"]
        return dict(self._new_bot_message(chat, content, params))

    def _send_document(self, params: JSONDict) -> JSONDict:
        return self._send_media(params, "document")

    def _send_photo(self, params: JSONDict) -> JSONDict:
        upload = params.get("photo")
        if isinstance(upload, UploadedFile):
            # Telegram's own checks of an uploaded photo (a PNG's size is read from its header).
            if len(upload.content) > PHOTO_MAX_BYTES:
                raise _error(400, "Bad Request: PHOTO_SAVE_FILE_INVALID")
            size = png_size(upload.content)
            if size is not None and (
                sum(size) > 10000 or max(size) > 20 * max(1, min(size)) or min(size) < 1
            ):
                raise _error(400, "Bad Request: PHOTO_INVALID_DIMENSIONS")
        return self._send_media(params, "photo")

    def _source_message(self, params: JSONDict, action: str) -> JSONDict:
        source_chat = self._chat(params, "from_chat_id")["id"]
        found = self._msgs.get((source_chat, _as_int(params.get("message_id")) or 0))
        if found is None:
            raise _error(400, f"Bad Request: message to {action} not found")
        return found

    def _copy_message(self, params: JSONDict) -> JSONDict:
        chat = self._chat(params)
        source = self._source_message(params, "copy")
        content = {key: source[key] for key in _CONTENT_KEYS if key in source}
        caption = self._check_caption(params)
        if caption is not None and "text" not in content:
            content["caption"] = caption
            content.pop("caption_entities", None)
            if params.get("caption_entities"):
                content["caption_entities"] = params["caption_entities"]
        message = self._new_bot_message(chat, content, params)
        return {"message_id": message["message_id"]}

    def _forward_message(self, params: JSONDict) -> JSONDict:
        chat = self._chat(params)
        source = self._source_message(params, "forward")
        content = {key: source[key] for key in _CONTENT_KEYS if key in source}
        content["forward_origin"] = source.get("forward_origin") or {
            "type": "user",
            "date": source["date"],
            "sender_user": source.get("from", self._bot_user),
        }
        return dict(self._new_bot_message(chat, content, {**params, "reply_markup": None}))

    def _edit_message_text(self, params: JSONDict) -> JSONDict:
        message = self._editable(params)
        text = self._check_text(params)
        if "text" not in message:
            raise _error(400, "Bad Request: there is no text in the message to edit")
        entities = params.get("entities") or None
        _check_entity_urls(entities)
        markup = self._inline_markup(params.get("reply_markup"))
        if (
            text == message.get("text")
            and entities == message.get("entities")
            and markup == message.get("reply_markup")
        ):
            raise _error(400, NOT_MODIFIED_DESCRIPTION)
        message["text"] = text
        self._set(message, "entities", entities)
        self._set(message, "reply_markup", markup)
        preview = params.get("link_preview_options")
        if isinstance(preview, dict):
            self._set(message, "link_preview_options", preview)
        message["edit_date"] = int(time.time())
        return dict(message)

    def _edit_message_caption(self, params: JSONDict) -> JSONDict:
        message = self._editable(params)
        if not any(key in message for key in _MEDIA_KEYS):
            raise _error(400, "Bad Request: there is no caption in the message to edit")
        caption = self._check_caption(params)
        entities = params.get("caption_entities") or None
        _check_entity_urls(entities)
        markup = self._inline_markup(params.get("reply_markup"))
        if (
            caption == message.get("caption")
            and entities == message.get("caption_entities")
            and markup == message.get("reply_markup")
        ):
            raise _error(400, NOT_MODIFIED_DESCRIPTION)
        self._set(message, "caption", caption)
        self._set(message, "caption_entities", entities)
        self._set(message, "reply_markup", markup)
        message["edit_date"] = int(time.time())
        return dict(message)

    def _edit_message_reply_markup(self, params: JSONDict) -> JSONDict:
        message = self._editable(params)
        markup = self._inline_markup(params.get("reply_markup"))
        if markup == message.get("reply_markup"):
            raise _error(400, NOT_MODIFIED_DESCRIPTION)
        self._set(message, "reply_markup", markup)
        message["edit_date"] = int(time.time())
        return dict(message)

    def _forget_message(self, chat_id: int, message_id: int) -> bool:
        if self._msgs.pop((chat_id, message_id), None) is None:
            return False
        self._bot_msgs.get(chat_id, {}).pop(message_id, None)
        return True

    def _delete_message(self, params: JSONDict) -> bool:
        chat_id = self._chat(params)["id"]
        if not self._forget_message(chat_id, _as_int(params.get("message_id")) or 0):
            raise _error(400, "Bad Request: message to delete not found")
        return True

    def _delete_messages(self, params: JSONDict) -> bool:
        chat_id = self._chat(params)["id"]
        message_ids = params.get("message_ids")
        if not isinstance(message_ids, list) or not message_ids:
            raise _error(400, "Bad Request: message identifiers are not specified")
        for message_id in message_ids:
            self._forget_message(chat_id, _as_int(message_id) or 0)
        return True

    def _answer_callback_query(self, params: JSONDict) -> bool:
        query_id = str(params.get("callback_query_id", ""))
        if query_id not in self._callbacks or query_id in self._answered:
            raise _error(400, QUERY_INVALID_DESCRIPTION)
        self._answered.add(query_id)
        return True

    def _get_chat(self, params: JSONDict) -> JSONDict:
        chat = self._chat(params)
        return {
            **chat,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": True,
                "limited_gifts": True,
                "unique_gifts": True,
                "premium_subscription": True,
                "gifts_from_channels": True,
            },
        }

    def _get_chat_member(self, params: JSONDict) -> JSONDict:
        chat_id = self._chat(params)["id"]
        user_id = _as_int(params.get("user_id"))
        if user_id is None:
            raise _error(400, "Bad Request: user not found")
        return self._member(chat_id, user_id)

    def _get_file(self, params: JSONDict) -> JSONDict:
        stored = self.files.get(str(params.get("file_id", "")))
        if stored is None:
            raise _error(400, "Bad Request: invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.content),
            "file_path": stored.file_path,
        }


# ---------------------------------------------------------------------- command line


async def _serve(args: argparse.Namespace) -> None:
    emulator = BotAPIEmulator(bot_username=args.bot_username, strict_chats=not args.any_chat)
    if args.flood:
        emulator.set_flood_control()
    base_url = await emulator.start(args.host, args.port)
    print(base_url, flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await emulator.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the Telegram Bot API emulator.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--bot-username", default="infozona_test_bot")
    parser.add_argument(
        "--any-chat", action="store_true", help="accept sends to chats never registered"
    )
    parser.add_argument(
        "--flood", action="store_true", help="enable flood control (30/s global, 1/s per chat)"
    )
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))


if __name__ == "__main__":
    main()
