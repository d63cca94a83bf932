"""The sites' RSS/Atom feeds as domain logic: fetching over a given aiohttp session, decoding,
parsing, sanitising to what Telegram renders, dedup keys, truncation, backoff.

No database and no Telegram here. Parsing is synchronous and CPU-bound: callers run
`parse_feed` off the event loop (`asyncio.to_thread`).
"""

from __future__ import annotations

import calendar
import codecs
import hashlib
import html
import io
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin

import aiohttp
import feedparser

from bot.content.formatting import NESTING_MAX
from bot.content.links import telegram_url
from bot.content.models import ItemKind

BOT_VERSION = "0.1"
ELLIPSIS = "…"
TITLE_MAX = 300  # items.title
URL_MAX = 1000  # items.url, items.image_url
GUID_MAX = 500  # items.guid
ETAG_MAX = 300  # feeds.etag
LAST_MODIFIED_MAX = 100  # feeds.last_modified
UNTITLED_MAX = 100  # a title made from the text of an entry that has none
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.8, text/xml;q=0.8, */*;q=0.5"
)
CHUNK = 64 * 1024


class FeedKind(StrEnum):
    """What a feed carries, as the editor declares it when adding the feed."""

    MATERIAL = "material"
    CASE = "case"
    NEWS = "news"

    @property
    def item_kind(self) -> ItemKind:
        """The kind its items are stored as.

        A site's news becomes a material: the digest is where site news reaches subscribers,
        and an auto-approved feed must land there. Announcements are the IMC's own posts sent
        to every subscriber on their own; a school's news feed must not broadcast through them.
        The feed keeps `news`, so the digest can tell such materials apart later.
        """
        return ItemKind.CASE if self is FeedKind.CASE else ItemKind.MATERIAL


@dataclass(frozen=True, slots=True)
class Feed:
    id: int
    url: str
    kind: FeedKind
    title: str = ""
    auto_approve: bool = False
    enabled: bool = True
    etag: str | None = None
    last_modified: str | None = None
    last_fetch_at: datetime | None = None  # the last attempt, successful or not
    next_fetch_at: datetime | None = None  # None: due at every poll
    error_count: int = 0  # consecutive failures; 0 after a success
    last_error: str | None = None  # Russian, for the editors; None after a success
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class FeedSettings:
    """What the poller needs from the bot's settings (the lead builds it from Settings)."""

    contact_url: str = "https://imc.example.ru/infozona"
    timeout_s: float = 20.0
    max_bytes: int = 5 * 1024 * 1024
    max_redirects: int = 5
    concurrency: int = 20
    summary_length: int = 800
    backoff_base: timedelta = timedelta(minutes=30)
    backoff_max: timedelta = timedelta(hours=24)
    # New items one feed may add in one poll; the rest come with the next polls.
    max_new_per_poll: int = 50

    @property
    def user_agent(self) -> str:
        return f"Infozona-bot/{BOT_VERSION} (+{self.contact_url})"


def backoff_delay(error_count: int, base: timedelta, cap: timedelta) -> timedelta:
    """How long a feed rests after its `error_count`-th consecutive failure: base, 2×base, …"""
    if error_count <= 0:
        return timedelta(0)
    # Past ~2^20 the cap has long won; the exponent is bounded so the product stays small.
    return min(base * (1 << min(error_count - 1, 20)), cap)


# --- fetching ------------------------------------------------------------------------------------


class FeedErrorKind(StrEnum):
    TIMEOUT = "timeout"
    TOO_LARGE = "too_large"
    HTTP_STATUS = "http_status"
    TOO_MANY_REDIRECTS = "too_many_redirects"
    NETWORK = "network"
    NOT_A_FEED = "not_a_feed"


class FeedError(Exception):
    """A feed could not be fetched or parsed; the service words it for the editors."""

    def __init__(self, kind: FeedErrorKind, detail: str = "") -> None:
        super().__init__(f"{kind.value}: {detail}" if detail else kind.value)
        self.kind = kind
        self.detail = detail


@dataclass(frozen=True, slots=True)
class FetchResult:
    url: str  # after redirects: the base for relative links
    not_modified: bool
    body: bytes = b""
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    # Where the feed now lives for good: the URL after the redirects that said so (301, 308)
    # before any temporary one; the requested URL when the first redirect was temporary.
    permanent_url: str | None = None


PERMANENT_REDIRECTS = frozenset({301, 308})


def permanent_location(requested: str, hops: Sequence[tuple[int, str]]) -> str:
    """The URL to keep asking: `hops` are (status, the URL it led to) in order; the chain of
    permanent redirects from the start is followed, and stops at the first temporary one."""
    url = requested
    for status, target in hops:
        if status not in PERMANENT_REDIRECTS:
            break
        url = target
    return url


def _header(value: str | None, limit: int) -> str | None:
    """A validator worth storing: present and short enough for its column."""
    if not value or len(value) > limit:
        return None
    return value


async def fetch_feed(
    session: aiohttp.ClientSession,
    url: str,
    settings: FeedSettings,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
) -> FetchResult:
    """GET the feed, conditionally, within the time, size and redirect limits."""
    headers = {"Accept": ACCEPT, "User-Agent": settings.user_agent}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        async with session.get(
            url,
            headers=headers,
            allow_redirects=True,
            # aiohttp counts redirect responses, refusing the one that reaches the limit.
            max_redirects=settings.max_redirects + 1,
            timeout=aiohttp.ClientTimeout(total=settings.timeout_s),
        ) as response:
            final_url = str(response.url)
            # Each redirect response answered the request of its own URL; the next one's URL
            # (the final one's, after the last) is where it led.
            history = response.history
            targets = [str(hop.url) for hop in history[1:]] + [final_url] if history else []
            hops = [(hop.status, target) for hop, target in zip(history, targets, strict=True)]
            permanent = permanent_location(url, hops)
            new_etag = _header(response.headers.get("ETag"), ETAG_MAX)
            new_modified = _header(response.headers.get("Last-Modified"), LAST_MODIFIED_MAX)
            if response.status == 304:
                return FetchResult(
                    final_url,
                    not_modified=True,
                    etag=new_etag or etag,
                    last_modified=new_modified or last_modified,
                    permanent_url=permanent,
                )
            if response.status != 200:
                raise FeedError(FeedErrorKind.HTTP_STATUS, str(response.status))
            declared = response.content_length
            if declared is not None and declared > settings.max_bytes:
                raise FeedError(FeedErrorKind.TOO_LARGE, str(declared))
            body = bytearray()
            # Read in chunks and stop at the cap: a misconfigured site may stream forever.
            async for chunk in response.content.iter_chunked(CHUNK):
                body += chunk
                if len(body) > settings.max_bytes:
                    raise FeedError(FeedErrorKind.TOO_LARGE, f">{settings.max_bytes}")
            return FetchResult(
                final_url,
                not_modified=False,
                body=bytes(body),
                content_type=response.headers.get("Content-Type"),
                etag=new_etag,
                last_modified=new_modified,
                permanent_url=permanent,
            )
    except TimeoutError:
        raise FeedError(FeedErrorKind.TIMEOUT) from None
    except aiohttp.TooManyRedirects:
        raise FeedError(FeedErrorKind.TOO_MANY_REDIRECTS) from None
    except aiohttp.ClientError as exc:
        raise FeedError(FeedErrorKind.NETWORK, _describe(exc)) from None


_LINK = re.compile(r"(?i)^(?:(https?)://)?([^\s/?#]+\.[^\s/?#]+)([/?#]\S*)?$")


def link_in_text(text: str | None) -> str | None:
    """The feed address an editor sent, as a URL to fetch, or None if the message is not one
    link: «https://school5.ru/rss», or «school5.ru/rss» without the scheme (https then)."""
    words = (text or "").split()
    if len(words) != 1:
        return None
    match = _LINK.match(words[0].strip("<>«»\"'"))
    if match is None:
        return None
    scheme, host, rest = match.groups()
    if not scheme:
        # Without the scheme, only what reads as a site's name: «10.12» is a date, and
        # «anna@school5.ru» an e-mail address.
        top = host.rsplit(":", 1)[0].rsplit(".", 1)[-1]
        if "@" in host or not top.isalpha() or len(top) < 2:
            return None
    return f"{(scheme or 'https').lower()}://{host}{rest or ''}"


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# --- encodings -----------------------------------------------------------------------------------

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_XML_DECLARATION = re.compile(rb"^\s*<\?xml[^>]*?>")
_XML_ENCODING = re.compile(rb"""encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")
_CHARSET = re.compile(r"""charset\s*=\s*["']?([A-Za-z0-9._:-]+)""", re.IGNORECASE)
# Single-byte Cyrillic encodings a Russian school site may use, most common first.
_CYRILLIC = ("cp1251", "koi8_r")
_LATIN = frozenset({"ascii", "latin_1", "iso8859_1", "cp1252", "iso8859_15"})
# Characters XML 1.0 forbids; CMSs paste them in from office documents.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_RUSSIAN_WORD = re.compile("[а-яё]{3,}", re.IGNORECASE)


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return codecs.lookup(name.strip()).name.replace("-", "_")
    except LookupError:
        return None


def _russian_score(text: str) -> int:
    """Letters in lowercase Russian words: a right guess reads as words, a wrong one doesn't."""
    return sum(
        len(word)
        for word in _RUSSIAN_WORD.findall(text)
        if word.islower() or sum(map(str.islower, word)) * 2 > len(word)
    )


def _sniff_cyrillic(data: bytes) -> tuple[str, int]:
    best, best_score = _CYRILLIC[0], -1
    for name in _CYRILLIC:
        score = _russian_score(data.decode(name, "replace"))
        if score > best_score:
            best, best_score = name, score
    return best, best_score


def decode_feed(data: bytes, content_type: str | None = None) -> tuple[str, str]:
    """The document as text, and the encoding it was read with.

    A byte-order mark wins; then valid UTF-8 (a Cyrillic single-byte text is practically never
    valid UTF-8, so a wrong declaration of a single-byte charset can't fool it); then a declared
    charset (HTTP header, then the XML declaration), unless it is a Latin one and the bytes read
    as Russian words in windows-1251 or KOI8-R; last, the better of those two.
    """
    for bom, name in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(name, "replace"), name
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    declared: list[str] = []
    if content_type and (match := _CHARSET.search(content_type)):
        declared.append(match.group(1))
    if (prolog := _XML_DECLARATION.match(data)) and (
        declaration := _XML_ENCODING.search(prolog.group(0))
    ):
        declared.append(declaration.group(1).decode("ascii"))
    sniffed, sniffed_score = _sniff_cyrillic(data)
    for name in declared:
        codec = _codec(name)
        if codec is None or codec.startswith("utf_8"):
            continue  # unknown, or UTF-8 that has just failed to decode
        if codec in _LATIN:
            latin_score = _russian_score(data.decode(codec, "replace"))
            if sniffed_score > max(latin_score, 0):
                return data.decode(sniffed, "replace"), sniffed
        elif codec in _CYRILLIC and codec != sniffed:
            own = _russian_score(data.decode(codec, "replace"))
            # Trust the declaration unless the other encoding reads clearly better.
            if sniffed_score > 2 * own:
                return data.decode(sniffed, "replace"), sniffed
        try:
            return data.decode(codec), codec
        except UnicodeDecodeError:
            return data.decode(codec, "replace"), codec
    return data.decode(sniffed, "replace"), sniffed


def _as_utf8_xml(text: str) -> bytes:
    """The document re-encoded as UTF-8, its XML declaration saying so."""
    text = _XML_ILLEGAL.sub("", text.lstrip("\ufeff"))
    body = text.encode("utf-8")
    match = _XML_DECLARATION.match(body)
    if match:
        body = body[match.end() :]
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + body.lstrip()


# --- HTML to Telegram text and entities ----------------------------------------------------------

# Whole elements dropped with everything inside: code, embeds, forms, invisible parts.
_DROPPED = frozenset(
    {
        "script", "style", "template", "noscript", "iframe", "object", "applet", "video",
        "audio", "canvas", "svg", "math", "head", "title", "select", "textarea", "button",
        "form", "map", "frameset", "noframes",
    }
)  # fmt: skip
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
     "source", "track", "wbr", "frame"}
)  # fmt: skip
_PARAGRAPH = frozenset(
    {
        "p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "ul", "ol", "dl",
        "table", "figure", "article", "section", "header", "footer", "main", "aside",
        "address", "center", "details", "fieldset", "hr", "nav",
    }
)  # fmt: skip
_LINE = frozenset({"div", "li", "tr", "dt", "dd", "figcaption", "caption", "summary"})
_CELL = frozenset({"td", "th"})
_FORMAT = {
    "b": "bold",
    "strong": "bold",
    "h1": "bold",
    "h2": "bold",
    "h3": "bold",
    "h4": "bold",
    "h5": "bold",
    "h6": "bold",
    "i": "italic",
    "em": "italic",
    "cite": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "code": "code",
    "kbd": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "a": "text_link",
}
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")  # two UTF-16 units each
_VERBATIM = frozenset({"code", "pre"})
_UNNESTED = frozenset({"text_link", "blockquote"})
_HTML_SPACE = re.compile(r"[ \t\n\r\f]+")
_IMAGE_SOURCES = ("data-src", "data-original", "data-lazy-src", "src")


def web_url(url: str | None, base: str | None = None) -> str | None:
    """`url` made absolute against `base`, as Telegram parses links (content.links); None if
    Telegram would refuse it or it does not fit a column."""
    if not url:
        return None
    try:
        absolute = urljoin(base, url.strip()) if base else url.strip()
    except ValueError:
        return None
    return telegram_url(absolute)


@dataclass(slots=True)
class _Open:
    tag: str
    type: str | None
    url: str | None = None
    start: int | None = None  # set by the first text inside, after any separators


class _Renderer(HTMLParser):
    """One pass over feed HTML: keeps what Telegram renders, drops the rest.

    Positions are counted in code points here and turned into UTF-16 units at the end.
    Separators (spaces, line breaks) are written lazily before the next text, so entities
    never start or end on whitespace and the text has none at its ends.

    Each tag costs the same however deep it sits: what the open elements hold is counted,
    never searched, so ten thousand nested tags read in linear time.
    """

    def __init__(self, base_url: str | None) -> None:
        super().__init__(convert_charrefs=True)
        self.base_url = base_url
        self.parts: list[str] = []
        self.length = 0
        self.entities: list[tuple[int, int, str, str | None]] = []
        self.image_url: str | None = None
        self._open: list[_Open] = []
        self._open_tags: Counter[str] = Counter()
        self._open_kinds: Counter[str] = Counter()  # entity types of the open elements
        self._unstarted: list[_Open] = []  # open elements that have no text yet
        self._dropped: list[str] = []
        self._dropped_tags: Counter[str] = Counter()
        self._breaks = 0
        self._space = False
        self._marker = ""
        self._lists: list[list[int]] = []  # per open list: [next number] or [] if bulleted
        self._pre = 0

    # separators

    def _break(self, count: int) -> None:
        self._breaks = max(self._breaks, count)

    def _emit(self, text: str) -> None:
        if self.length:
            if self._breaks:
                self._write("\n" * self._breaks)
            elif self._space:
                self._write(" ")
        self._breaks = 0
        self._space = False
        if self._marker:
            self._write(self._marker)
            self._marker = ""
        for element in self._unstarted:
            element.start = self.length
        self._unstarted.clear()
        self._write(text)

    def _write(self, text: str) -> None:
        self.parts.append(text)
        self.length += len(text)

    # parser callbacks

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._dropped or tag in _DROPPED:
            if tag not in _VOID:
                self._dropped.append(tag)
                self._dropped_tags[tag] += 1
            return
        if tag == "img":
            self._image(dict(attrs))
            return
        if tag == "br":
            self._breaks = min(self._breaks + 1, 2)
            self._space = False
            return
        if tag in _PARAGRAPH:
            self._break(2)
        elif tag in _LINE:
            self._break(1)
        elif tag in _CELL:
            self._space = True
        if tag in {"ul", "ol"}:
            self._lists.append([1] if tag == "ol" else [])
        elif tag == "li":
            self._marker = self._list_marker()
        if tag == "pre":
            self._pre += 1
        if tag in _VOID:
            return
        kind = _FORMAT.get(tag)
        url = None
        if kind == "text_link":
            url = web_url(dict(attrs).get("href"), self.base_url)
            if url is None:
                kind = None
        if kind is not None:
            # Telegram refuses entities inside code or pre, and links or quotes in their own kind.
            inside = self._open_kinds
            if (
                any(inside[verbatim] for verbatim in _VERBATIM)
                or (kind in _UNNESTED and inside[kind])
                or inside.total() >= NESTING_MAX
            ):
                kind = None
        element = _Open(tag, kind, url)
        self._open.append(element)
        self._open_tags[tag] += 1
        if kind is not None:
            self._open_kinds[kind] += 1
        self._unstarted.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._dropped:
            if self._dropped_tags[tag]:
                while (dropped := self._dropped.pop()) != tag:
                    self._dropped_tags[dropped] -= 1
                self._dropped_tags[tag] -= 1
            return
        if tag in _PARAGRAPH:
            self._break(2)
        elif tag in _LINE:
            self._break(1)
        if tag in {"ul", "ol"} and self._lists:
            self._lists.pop()
        if tag == "pre" and self._pre:
            self._pre -= 1
        if not self._open_tags[tag]:
            return
        # Close everything opened inside too: misnested HTML still yields nested entities.
        while self._open:
            element = self._open.pop()
            self._open_tags[element.tag] -= 1
            if element.type:
                self._open_kinds[element.type] -= 1
            if element.start is None:
                # Opened after every element that has text, so it is the last one waiting.
                self._unstarted.pop()
            if element.type and element.start is not None and self.length > element.start:
                self.entities.append(
                    (element.start, self.length - element.start, element.type, element.url)
                )
            if element.tag == tag:
                break

    def handle_data(self, data: str) -> None:
        if self._dropped or not data:
            return
        if self._pre:
            self._emit(data)
            return
        if data[0] in " \t\n\r\f":
            self._space = True
        words = _HTML_SPACE.split(data.strip(" \t\n\r\f"))
        if words != [""]:
            self._emit(" ".join(words))
            self._space = data[-1] in " \t\n\r\f"

    def _list_marker(self) -> str:
        if not self._lists or not self._lists[-1]:
            return "• "
        number = self._lists[-1][0]
        self._lists[-1][0] += 1
        return f"{number}. "

    def _image(self, attrs: Mapping[str, str | None]) -> None:
        if self.image_url is not None:
            return
        if attrs.get("width") in {"0", "1"} or attrs.get("height") in {"0", "1"}:
            return  # a tracking pixel
        for name in _IMAGE_SOURCES:
            url = web_url(attrs.get(name), self.base_url)
            if url is not None:
                self.image_url = url
                return

    def result(self) -> tuple[str, list[tuple[int, int, str, str | None]]]:
        while self._open:
            self.handle_endtag(self._open[-1].tag)
        return "".join(self.parts), self.entities


@dataclass(frozen=True, slots=True)
class Rendered:
    text: str
    entities: tuple[dict[str, Any], ...] = ()  # Bot API MessageEntity dicts, UTF-16 offsets
    image_url: str | None = None


def render_html(source: str, base_url: str | None = None, limit: int | None = None) -> Rendered:
    """Feed HTML as Telegram text and entities, its first image, cut to `limit` characters.

    Links and the image are resolved against `base_url`; scripts, styles, iframes, embeds and
    forms are dropped with their contents; other unknown tags keep their text.
    """
    renderer = _Renderer(base_url)
    # Long articles: stop reading once there is enough text and a picture (or plenty of text).
    enough = None if limit is None else limit + 200
    for start in range(0, len(source), CHUNK):
        renderer.feed(source[start : start + CHUNK])
        if (
            enough is not None
            and renderer.length > enough
            and (renderer.image_url is not None or renderer.length > 4 * enough)
        ):
            break
    else:
        renderer.close()
    text, spans = renderer.result()
    if limit is not None:
        text, spans = _truncate(text, spans, limit)
    return Rendered(text, _entities(text, spans), renderer.image_url)


def plain_text(source: str) -> str:
    """HTML as one line of plain text (titles)."""
    return " ".join(render_html(source).text.split())


_TRAILING = " \t\n\r\f\xa0,;:-–—(«\"'/"


def _truncate(
    text: str, spans: list[tuple[int, int, str, str | None]], limit: int
) -> tuple[str, list[tuple[int, int, str, str | None]]]:
    if len(text) <= limit:
        return text, spans
    cut = text[: max(limit - len(ELLIPSIS), 0)]
    boundary = max(cut.rfind(" "), cut.rfind("\n"))
    if boundary >= limit // 2:
        cut = cut[:boundary]
    cut = cut.rstrip(_TRAILING)
    end = len(cut)
    clipped = []
    for offset, length, kind, url in spans:
        stop = min(offset + length, end)
        while stop > offset and cut[stop - 1].isspace():
            stop -= 1
        if stop > offset:
            clipped.append((offset, stop - offset, kind, url))
    return cut + ELLIPSIS, clipped


def truncate_text(text: str, limit: int) -> str:
    """`text` cut on a word boundary to at most `limit` characters, «…» included."""
    return _truncate(text, [], limit)[0]


def _entities(
    text: str, spans: list[tuple[int, int, str, str | None]]
) -> tuple[dict[str, Any], ...]:
    if not spans:
        return ()
    astral = _ASTRAL.search(text) is not None
    units: list[int] = []
    if astral:
        total = 0
        for c in text:
            units.append(total)
            total += 2 if ord(c) > 0xFFFF else 1
        units.append(total)
    result = []
    for offset, length, kind, url in sorted(spans, key=lambda s: (s[0], -s[1])):
        if astral:
            offset, length = units[offset], units[offset + length] - units[offset]
        entity: dict[str, Any] = {"type": kind, "offset": offset, "length": length}
        if url is not None:
            entity["url"] = url
        result.append(entity)
    return tuple(result)


# --- parsing -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FeedEntry:
    key: str  # the dedup key: items.guid
    title: str
    link: str | None
    published: datetime | None
    text: str
    entities: tuple[dict[str, Any], ...] = ()
    image_url: str | None = None

    def preview(self) -> dict[str, Any]:
        """What `feeds check` shows an operator."""
        return {
            "title": self.title,
            "link": self.link,
            "published": self.published.isoformat() if self.published else None,
            "summary": self.text,
            "image": self.image_url,
            "guid": self.key,
        }


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    title: str
    link: str | None
    version: str  # feedparser's name of the format: rss20, atom10, rss10, …
    encoding: str
    entries: tuple[FeedEntry, ...] = ()
    malformed: str | None = None  # what the XML parser complained about, entries kept
    skipped: int = 0  # entries with nothing to show (no title, no text)
    duplicates: int = 0  # repeated keys within the document


def dedup_key(guid: str | None, link: str | None, title: str, published: datetime | None) -> str:
    """guid, else link, else a stable digest of title and date; always fits items.guid."""
    for candidate in (guid, link):
        candidate = (candidate or "").strip()
        if candidate:
            if len(candidate) <= GUID_MAX:
                return candidate
            return "sha256:" + hashlib.sha256(candidate.encode("utf-8")).hexdigest()
    stamp = published.astimezone(UTC).isoformat() if published else ""
    digest = hashlib.sha256(f"{title.strip()}\n{stamp}".encode()).hexdigest()
    return f"title-date:{digest}"


_DOUBLE_ESCAPED = re.compile(r"&(?:[A-Za-z]{2,8}|#\d{2,6}|#x[0-9A-Fa-f]{2,5});")


def _title(detail: Any, fallback: str) -> str:
    value = detail.get("value", "") if detail else ""
    if not value:
        value = fallback
    if detail and "html" in str(detail.get("type", "")):
        value = plain_text(value)
    else:
        # Some CMSs escape twice: «&amp;laquo;» arrives as the text «&laquo;».
        if _DOUBLE_ESCAPED.search(value):
            value = html.unescape(value)
        value = " ".join(value.split())
    return value


def _published(entry: Any) -> datetime | None:
    for name in ("published_parsed", "updated_parsed", "created_parsed"):
        parsed = entry.get(name)
        if parsed:
            try:
                return datetime.fromtimestamp(calendar.timegm(parsed), UTC)
            except (TypeError, ValueError, OverflowError, OSError):
                continue
    return None


def _body(entry: Any) -> tuple[str, str | None]:
    """The entry's fullest HTML (content over summary) and its xml:base."""
    candidates = [*entry.get("content", ()), entry.get("summary_detail")]
    for detail in candidates:
        if not detail or not detail.get("value", "").strip():
            continue
        value = detail["value"]
        if str(detail.get("type", "")) == "text/plain":
            value = html.escape(value).replace("\n", "<br>")
        return value, detail.get("base") or None
    return "", None


def _enclosure_image(entry: Any, base: str | None) -> str | None:
    for media in (*entry.get("media_content", ()), *entry.get("media_thumbnail", ())):
        medium = str(media.get("medium", "") or media.get("type", "image"))
        if "image" in medium and (url := web_url(media.get("url"), base)):
            return url
    for link in entry.get("links", ()):
        is_image = str(link.get("type", "")).startswith("image/")
        if (
            link.get("rel") == "enclosure"
            and is_image
            and (url := web_url(link.get("href"), base))
        ):
            return url
    return None


def parse_feed(
    data: bytes,
    *,
    url: str | None = None,
    content_type: str | None = None,
    summary_length: int = 800,
) -> ParsedFeed:
    """RSS 0.9x/1.0/2.0 or Atom bytes as entries ready to store, deduplicated by key.

    `url` is where the document came from (after redirects): relative links are resolved
    against it, or against the feed's own link when it is unknown (a local file). Malformed
    XML is read by feedparser's lenient parser and whatever entries it finds are kept.
    Raises FeedError(NOT_A_FEED) when the document is no feed at all.
    """
    text, encoding = decode_feed(data, content_type)
    # BytesIO, never bytes: feedparser treats a bare string that looks like a URL or a path
    # as something to open. Its own sanitising and resolving are off: ours does both. It is
    # not told the URL either: it would resolve a relative RSS guid («<guid>123</guid>»)
    # against it, and the dedup key would change whenever the site's address does.
    parsed = feedparser.parse(
        io.BytesIO(_as_utf8_xml(text)),
        response_headers={"content-type": "application/xml; charset=utf-8"},
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    version = str(parsed.get("version") or "")
    channel = parsed.get("feed", {})
    if not version and not parsed.entries:
        problem = parsed.get("bozo_exception")
        raise FeedError(FeedErrorKind.NOT_A_FEED, _describe(problem) if problem else "")
    feed_link = web_url(channel.get("link"), url)
    feed_base = url or feed_link
    entries: list[FeedEntry] = []
    seen: set[str] = set()
    skipped = duplicates = 0
    for entry in parsed.entries:
        body, body_base = _body(entry)
        base = web_url(body_base, feed_base) or feed_base
        rendered = render_html(body, base, summary_length) if body else Rendered("")
        link = web_url(entry.get("link"), feed_base)
        published = _published(entry)
        title = _title(entry.get("title_detail"), entry.get("title", ""))
        if not title:
            title = truncate_text(" ".join(rendered.text.split()), UNTITLED_MAX)
        if not title:
            skipped += 1
            continue
        key = dedup_key(entry.get("id"), link, title, published)
        if key in seen:
            duplicates += 1
            continue
        seen.add(key)
        entries.append(
            FeedEntry(
                key=key,
                title=truncate_text(title, TITLE_MAX),
                link=link,
                published=published,
                text=rendered.text,
                entities=rendered.entities,
                image_url=_enclosure_image(entry, base) or rendered.image_url,
            )
        )
    malformed = None
    if parsed.get("bozo"):
        malformed = _describe(parsed.get("bozo_exception") or Exception())
    return ParsedFeed(
        title=truncate_text(_title(channel.get("title_detail"), channel.get("title", "")), 300),
        link=feed_link,
        version=version,
        encoding=encoding,
        entries=tuple(entries),
        malformed=malformed,
        skipped=skipped,
        duplicates=duplicates,
    )
