"""Rich text as a tree of nodes, rendered to plain text plus Bot-API-shaped entities.

A transport-neutral twin of the part of `aiogram.utils.formatting` the bot uses: the same node
classes and call shapes (`Bold("…")`, `as_line(…, end="")`, `Text(...) + "…"`), and the same
output — text and entities, in the same order, offsets and lengths in UTF-16 code units as
Telegram counts them. Whatever a user typed travels as plain text and can never break the markup.

Nothing here knows a messenger: `bot/telegram/render.py` turns the result into aiogram objects.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from bot.content.models import MessagePart

# Entity fields beyond type/offset/length, in the Bot API's (and aiogram's) order.
_FIELDS = ("url", "user", "language", "custom_emoji_id", "unix_time", "date_time_format")


# Formatting nested deeper than this stays plain text: no reader sees bold inside bold ten
# times over, Telegram keeps only a message's first 100 entities, and a hostile feed entry
# with thousands of nested tags must not become thousands of entities.
NESTING_MAX = 8


def shallow(entities: Iterable[Mapping[str, Any]], depth: int = NESTING_MAX) -> list[Any]:
    """The entities (Bot API dicts) without those nested more than `depth` deep.

    For bodies stored before feed rendering capped nesting; the text they covered stays.
    """
    ordered = sorted(entities, key=lambda e: (int(e["offset"]), -int(e["length"])))
    kept: list[Any] = []
    ends: list[int] = []  # ends of the enclosing entities, innermost last
    for entity in ordered:
        start = int(entity["offset"])
        while ends and ends[-1] <= start:
            ends.pop()
        if len(ends) < depth:
            kept.append(entity)
        ends.append(start + int(entity["length"]))
    return kept


def sizeof(value: str) -> int:
    """The length of `value` in UTF-16 code units (astral characters count two)."""
    return len(value.encode("utf-16-le")) // 2


@dataclass(frozen=True, slots=True)
class Entity:
    """One Bot API MessageEntity: a span of the rendered text with its kind and parameters."""

    type: str
    offset: int
    length: int
    url: str | None = None
    user: Mapping[str, Any] | None = None
    language: str | None = None
    custom_emoji_id: str | None = None
    unix_time: int | None = None
    date_time_format: str | None = None
    # Fields this module does not name (kept as they came, like aiogram keeps them).
    extra: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def build(cls, type: str, offset: int, length: int, params: Mapping[str, Any]) -> Entity:
        named = {k: v for k, v in params.items() if k in _FIELDS}
        extra = tuple((k, v) for k, v in params.items() if k not in _FIELDS)
        return cls(type, offset, length, **named, extra=extra)

    def params(self) -> dict[str, Any]:
        """Everything but type, offset and length, None included."""
        values: dict[str, Any] = {name: getattr(self, name) for name in _FIELDS}
        values.update(self.extra)
        return values

    def to_dict(self) -> dict[str, Any]:
        """The entity as the Bot API sends it: unset fields left out."""
        result: dict[str, Any] = {"type": self.type, "offset": self.offset, "length": self.length}
        for key, value in self.params().items():
            if value is None:
                continue
            if key == "user" and isinstance(value, Mapping):
                value = {k: v for k, v in value.items() if v is not None}
            result[key] = value
        return result


class Text(Iterable[Any]):
    """A run of nodes (strings, other nodes); a subclass with a `type` is one entity."""

    type: ClassVar[str | None] = None

    __slots__ = ("_body", "_params")

    def __init__(self, *body: Any, **params: Any) -> None:
        self._body: tuple[Any, ...] = body
        self._params: dict[str, Any] = params

    @classmethod
    def from_entities(cls, text: str, entities: Iterable[Mapping[str, Any] | Entity]) -> Text:
        """The tree for a text with entities as Telegram gives them (dicts or Entity)."""
        parsed = [_entity(e) for e in entities]
        return cls(
            *_unparse_entities(
                text.encode("utf-16-le"), sorted(parsed, key=lambda item: item.offset)
            )
        )

    def render(
        self, *, _offset: int = 0, _sort: bool = True, _collect_entities: bool = True
    ) -> tuple[str, list[Entity]]:
        """The plain text and its entities, sorted by offset (stable: inner ones first).

        An explicit stack, not recursion: a feed entry or a stored body may nest deeper than
        Python's recursion limit. Entities come out in the recursive order (children first).
        """
        parts: list[str] = []
        entities: list[Entity] = []
        offset = _offset
        stack: list[tuple[Text, Iterator[Any], int]] = [(self, iter(self._body), offset)]
        while stack:
            node, body, start = stack[-1]
            for child in body:
                if isinstance(child, Text):
                    stack.append((child, iter(child._body), offset))
                    break
                piece = str(child)
                parts.append(piece)
                offset += sizeof(piece)
            else:
                stack.pop()
                if _collect_entities and node.type:
                    entities.append(Entity.build(node.type, start, offset - start, node._params))
        if _collect_entities and _sort:
            entities.sort(key=lambda entity: entity.offset)
        return "".join(parts), entities

    def as_part(self) -> MessagePart:
        """Rendered for sending: the text plus Bot API entity dicts."""
        text, entities = self.render()
        return MessagePart(text, tuple(e.to_dict() for e in entities))

    def replace(self, *body: Any, **params: Any) -> Text:
        return type(self)(*body, **{**self._params, **params})

    def __add__(self, other: Any) -> Text:
        if isinstance(other, Text) and other.type == self.type and self._params == other._params:
            return type(self)(*self, *other, **self._params)
        if type(self) is Text and isinstance(other, str):
            return type(self)(*self, other, **self._params)
        return Text(self, other)

    def __iter__(self) -> Iterator[Any]:
        yield from self._body

    def __len__(self) -> int:
        text, _ = self.render(_collect_entities=False)
        return sizeof(text)

    def __repr__(self) -> str:
        # An explicit stack, like render: a log line must not overflow on a deep tree.
        stack: list[tuple[Text, Iterator[Any], list[str]]] = [(self, iter(self._body), [])]
        while True:
            node, body, items = stack[-1]
            for child in body:
                if isinstance(child, Text):
                    stack.append((child, iter(child._body), []))
                    break
                items.append(repr(child))
            else:
                stack.pop()
                params = ", ".join(f"{k}={v!r}" for k, v in node._params.items() if v is not None)
                inside = ", ".join(p for p in (", ".join(items), params) if p)
                text = f"{type(node).__name__}({inside})"
                if not stack:
                    return text
                stack[-1][2].append(text)


class HashTag(Text):
    type = "hashtag"

    def __init__(self, *body: Any, **params: Any) -> None:
        if len(body) != 1:
            raise ValueError("Hashtag can contain only one element")
        if not isinstance(body[0], str):
            raise ValueError("Hashtag can contain only string")
        if not body[0].startswith("#"):
            body = ("#" + body[0],)
        super().__init__(*body, **params)


class CashTag(Text):
    type = "cashtag"

    def __init__(self, *body: Any, **params: Any) -> None:
        if len(body) != 1:
            raise ValueError("Cashtag can contain only one element")
        if not isinstance(body[0], str):
            raise ValueError("Cashtag can contain only string")
        if not body[0].startswith("$"):
            body = ("$" + body[0],)
        super().__init__(*body, **params)


class BotCommand(Text):
    type = "bot_command"


class Url(Text):
    type = "url"


class Email(Text):
    type = "email"


class PhoneNumber(Text):
    type = "phone_number"


class Bold(Text):
    type = "bold"


class Italic(Text):
    type = "italic"


class Underline(Text):
    type = "underline"


class Strikethrough(Text):
    type = "strikethrough"


class Spoiler(Text):
    type = "spoiler"


class Code(Text):
    type = "code"


class Pre(Text):
    type = "pre"

    def __init__(self, *body: Any, language: str | None = None, **params: Any) -> None:
        super().__init__(*body, language=language, **params)


class TextLink(Text):
    type = "text_link"

    def __init__(self, *body: Any, url: str, **params: Any) -> None:
        super().__init__(*body, url=url, **params)


class TextMention(Text):
    type = "text_mention"

    def __init__(self, *body: Any, user: Mapping[str, Any], **params: Any) -> None:
        super().__init__(*body, user=user, **params)


class CustomEmoji(Text):
    type = "custom_emoji"

    def __init__(self, *body: Any, custom_emoji_id: str, **params: Any) -> None:
        super().__init__(*body, custom_emoji_id=custom_emoji_id, **params)


class BlockQuote(Text):
    type = "blockquote"


class ExpandableBlockQuote(Text):
    type = "expandable_blockquote"


class DateTime(Text):
    type = "date_time"

    def __init__(
        self,
        *body: Any,
        unix_time: int | datetime,
        date_time_format: str | None = None,
        **params: Any,
    ) -> None:
        if isinstance(unix_time, datetime):
            unix_time = int(unix_time.timestamp())
        super().__init__(*body, unix_time=unix_time, date_time_format=date_time_format, **params)


# --- a link into the bot itself (digests) -------------------------------------------------------

BOT_LINK = "bot_link"


class BotLink(Text):
    """A link that opens this bot with a start payload (`?start=item_12`). Not a Bot API type:
    the bot's address is the transport's to know, and the transport turns it into a text link."""

    type = BOT_LINK

    def __init__(self, *body: Any, payload: str, **params: Any) -> None:
        super().__init__(*body, payload=payload, **params)


NODE_TYPES: Mapping[str | None, type[Text]] = {
    node.type: node
    for node in (
        Text, HashTag, CashTag, BotCommand, Url, Email, PhoneNumber, Bold, Italic, Underline,
        Strikethrough, Spoiler, Code, Pre, TextLink, TextMention, CustomEmoji, BlockQuote,
        ExpandableBlockQuote, DateTime,
    )
}  # fmt: skip


def _entity(value: Mapping[str, Any] | Entity) -> Entity:
    if isinstance(value, Entity):
        return value
    params = {k: v for k, v in value.items() if k not in ("type", "offset", "length")}
    return Entity.build(str(value["type"]), int(value["offset"]), int(value["length"]), params)


def _apply_entity(entity: Entity, *nodes: Any) -> Any:
    # A kind without a node (a @mention, a bank card) stays plain text, as in aiogram.
    return NODE_TYPES.get(entity.type, Text)(*nodes, **entity.params())


def _unparse_entities(text: bytes, entities: Sequence[Entity]) -> list[Any]:
    """The nodes for `text` (UTF-16-LE bytes, two per code unit) and its sorted entities.

    aiogram's unparser, walked with an explicit stack instead of recursion: entities nested
    past Python's recursion limit (a hostile feed entry, old stored data) still come back.
    Since `entities` are sorted by offset, those starting inside an entity are the run right
    after it, found by bisection rather than by copying the rest of the list.
    """
    root: list[Any] = []
    # A frame: [next index, end of the run (exclusive), offset, length, nodes, its entity].
    stack: list[list[Any]] = [[0, len(entities), 0, len(text), root, None]]
    while stack:
        frame = stack[-1]
        index, stop, offset, length, nodes, _ = frame
        child = None
        while index < stop:
            entity = entities[index]
            index += 1
            if entity.offset * 2 < offset:
                continue
            if entity.offset * 2 > offset:
                nodes.append(text[offset : entity.offset * 2].decode("utf-16-le"))
            start = entity.offset * 2
            offset = start + entity.length * 2
            inner = bisect_left(entities, offset, index, stop, key=lambda e: e.offset * 2)
            # aiogram's `length or len(text)`: an empty entity at 0 reads to the end.
            child = [index, inner, start, offset or len(text), [], entity]
            index = inner  # those start inside the child: it takes them all
            break
        frame[0], frame[2] = index, offset
        if child is not None:
            stack.append(child)
            continue
        if offset < length:
            nodes.append(text[offset:length].decode("utf-16-le"))
        stack.pop()
        if frame[5] is not None:
            stack[-1][4].append(_apply_entity(frame[5], *nodes))
    return root


def as_line(*items: Any, end: str = "\n", sep: str = "") -> Text:
    """The items as one line, `sep` between them and `end` after."""
    if sep:
        nodes: list[Any] = []
        for item in items[:-1]:
            nodes.extend([item, sep])
        nodes.extend([items[-1], end])
    else:
        nodes = [*items, end]
    return Text(*nodes)


def as_list(*items: Any, sep: str = "\n") -> Text:
    """The items on lines of their own."""
    nodes: list[Any] = []
    for item in items[:-1]:
        nodes.extend([item, sep])
    nodes.append(items[-1])
    return Text(*nodes)


def as_marked_list(*items: Any, marker: str = "- ") -> Text:
    return as_list(*(Text(marker, item) for item in items))


def as_numbered_list(*items: Any, start: int = 1, fmt: str = "{}. ") -> Text:
    return as_list(*(Text(fmt.format(index), item) for index, item in enumerate(items, start)))


def as_section(title: Any, *body: Any) -> Text:
    return Text(title, "\n", *body)


def as_marked_section(title: Any, *body: Any, marker: str = "- ") -> Text:
    return as_section(title, as_marked_list(*body, marker=marker))


def as_numbered_section(title: Any, *body: Any, start: int = 1, fmt: str = "{}. ") -> Text:
    return as_section(title, as_numbered_list(*body, start=start, fmt=fmt))


def as_key_value(key: Any, value: Any) -> Text:
    """«**key:** value»."""
    return Text(Bold(key, ":"), " ", value)
