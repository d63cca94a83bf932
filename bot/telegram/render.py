"""Neutral rich text (bot.content.formatting, MessagePart) → aiogram send/edit arguments.

The same arguments `aiogram.utils.formatting.Text.as_kwargs()` gave: the text, its entities as
`MessageEntity` objects and `parse_mode=None`, so nothing the user typed is read as markup.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from aiogram.types import MessageEntity

from bot.content.formatting import Text
from bot.content.models import MessagePart

Content = Text | MessagePart | str


def entities(raw: Iterable[Mapping[str, Any]]) -> list[MessageEntity]:
    """Bot API entity dicts as aiogram objects."""
    return [MessageEntity.model_validate(e) for e in raw]


def part(content: Content) -> MessagePart:
    """Any content as a rendered message part."""
    if isinstance(content, MessagePart):
        return content
    return (content if isinstance(content, Text) else Text(content)).as_part()


def as_kwargs(content: Content) -> dict[str, Any]:
    """`text`, `entities`, `parse_mode` for send_message / edit_message_text / answer."""
    rendered = part(content)
    return {"text": rendered.text, "entities": entities(rendered.entities), "parse_mode": None}
