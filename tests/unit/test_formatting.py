"""bot.content.formatting renders exactly what aiogram.utils.formatting renders.

The e2e tests compare the messages users see, so the neutral renderer must give the same text
and the same entities (order, UTF-16 offsets, parameters) as aiogram's for every shape texts.py
builds. Each sample is built twice, once with each module, through the same call shapes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

import aiogram.utils.formatting as reference
import pytest
from aiogram.types import MessageEntity

import bot.content.formatting as neutral
from bot.content.models import MessagePart

Sample = Callable[[ModuleType], Any]

SAMPLES: dict[str, Sample] = {
    "plain string": lambda f: f.Text("Здравствуйте"),
    "empty text": lambda f: f.Text(),
    "empty bold": lambda f: f.Text("a", f.Bold(""), "b"),
    "bold and italic": lambda f: f.Text(f.Bold("Инфозона"), " — ", f.Italic("бот ИМЦ")),
    "nested": lambda f: f.Bold("a ", f.Italic("b ", f.Code("c")), " d"),
    "nested at one offset": lambda f: f.Bold(f.Italic(f.Underline("same start"))),
    "emoji": lambda f: f.Text("👋 ", f.Bold("«Инфозона»"), " 📅 ", f.Italic("март")),
    "astral": lambda f: f.as_list(
        f.Bold("𝔘𝔫𝔦𝔠𝔬𝔡𝔢 😀"), f.TextLink("👨‍👩‍👧 ссылка", url="https://e.x/")
    ),
    "line": lambda f: f.as_line("Здравствуйте, ", "Анна", "! 👋", end=""),
    "line with sep": lambda f: f.as_line("a", f.Bold("b"), 3, sep=" · "),
    "list": lambda f: f.as_list(f.Bold("Заголовок"), "", "текст", f.Italic("курсив")),
    "list with sep": lambda f: f.as_list("a", "b", f.Code("c"), sep="\n\n"),
    "key value": lambda f: f.as_list(
        f.as_key_value("Роль", "Педагог"), f.as_key_value("Темы", "—")
    ),
    "marked list": lambda f: f.as_marked_list("один", f.Bold("два"), marker="• "),
    "numbered section": lambda f: f.as_numbered_section(f.Bold("Итоги"), "a", "b", start=3),
    "marked section": lambda f: f.as_marked_section("Темы", "x", f.Italic("y")),
    "section": lambda f: f.as_section(f.Bold("T"), "body ", f.Code("42")),
    "numbers": lambda f: f.Text(1, " ", 2.5, " ", f.Bold(1200)),
    "pre with language": lambda f: f.Text(f.Pre("print(1)", language="python"), f.Pre("x")),
    "other kinds": lambda f: f.as_list(
        f.Underline("u"),
        f.Strikethrough("s"),
        f.Spoiler("sp"),
        f.Url("https://e.x"),
        f.Email("a@e.x"),
        f.PhoneNumber("+7 900"),
        f.BotCommand("/start"),
        f.HashTag("тег"),
        f.CashTag("RUB"),
        f.CustomEmoji("😀", custom_emoji_id="5368324170671202286"),
        f.BlockQuote("цитата"),
        f.ExpandableBlockQuote("длинная ", f.Bold("цитата")),
    ),
    "add text and str": lambda f: f.Text("a ", f.Bold("b")) + " c",
    "add same kind": lambda f: f.Bold("a") + f.Bold("b"),
    "add different kinds": lambda f: f.Bold("a") + f.Italic("b") + "c",
    "add links": lambda f: f.TextLink("a", url="https://a") + f.TextLink("b", url="https://b"),
    "str plus text": lambda f: f.Text("x") + f.Text(f.Bold("y")),
    "control characters": lambda f: f.Text("a\u00a0b\u200d", f.Bold("\t\r\n"), "\U0010ffff"),
}


def _ours(entities: list[MessageEntity]) -> list[dict[str, Any]]:
    return [e.model_dump(exclude_none=True) for e in entities]


@pytest.mark.parametrize("name", list(SAMPLES))
def test_renders_what_aiogram_renders(name: str) -> None:
    build = SAMPLES[name]
    expected_text, expected_entities = build(reference).render()
    text, entities = build(neutral).render()
    assert text == expected_text
    assert [e.to_dict() for e in entities] == _ours(expected_entities)
    assert len(build(neutral)) == len(build(reference))


@pytest.mark.parametrize("name", list(SAMPLES))
def test_a_part_carries_the_bot_api_dicts(name: str) -> None:
    build = SAMPLES[name]
    expected_text, expected_entities = build(reference).render()
    part = build(neutral).as_part()
    assert part == MessagePart(expected_text, tuple(_ours(expected_entities)))
    # The dicts are what aiogram would put on the wire, key order included.
    assert json.dumps(part.entities) == json.dumps(_ours(expected_entities))


EDITOR_TEXTS: dict[str, tuple[str, list[dict[str, Any]]]] = {
    "none": ("Просто текст", []),
    "bold word": ("Приглашаем на семинар.", [{"type": "bold", "offset": 0, "length": 10}]),
    "unsorted and nested": (
        "Семинар 😀 в марте: программа",
        [
            {"type": "italic", "offset": 11, "length": 7},
            {"type": "bold", "offset": 0, "length": 18},
            {"type": "underline", "offset": 11, "length": 1},
        ],
    ),
    "after astral": (
        "😀😀 ссылка и #тег",
        [
            {"type": "text_link", "offset": 5, "length": 6, "url": "https://imc.example/s"},
            {"type": "hashtag", "offset": 14, "length": 4},
        ],
    ),
    "kinds aiogram has no node for stay plain": (
        "@imc_bot 4111 1111 1111 1111",
        [
            {"type": "mention", "offset": 0, "length": 8},
            {"type": "bank_card", "offset": 9, "length": 19},
        ],
    ),
    "mention, emoji, pre": (
        "Анна 😀 code",
        [
            {
                "type": "text_mention",
                "offset": 0,
                "length": 4,
                "user": {"id": 7, "is_bot": False, "first_name": "Анна", "last_name": None},
            },
            {"type": "custom_emoji", "offset": 5, "length": 2, "custom_emoji_id": "1"},
            {"type": "pre", "offset": 8, "length": 4, "language": "python"},
        ],
    ),
    "overlapping": (
        "abcdef",
        [{"type": "bold", "offset": 0, "length": 4}, {"type": "italic", "offset": 2, "length": 4}],
    ),
    "whole text and zero length": (
        "весь текст",
        [
            {"type": "bold", "offset": 0, "length": 10},
            {"type": "italic", "offset": 3, "length": 0},
        ],
    ),
    "blockquote and spoiler at the end": (
        "Цитата\nспойлер",
        [
            {"type": "blockquote", "offset": 0, "length": 6},
            {"type": "spoiler", "offset": 7, "length": 7},
        ],
    ),
    "date time": (
        "завтра в 10:00",
        [
            {
                "type": "date_time",
                "offset": 0,
                "length": 14,
                "unix_time": 1_790_000_000,
                "date_time_format": "r",
            }
        ],
    ),
}


@pytest.mark.parametrize("name", list(EDITOR_TEXTS))
def test_an_editors_text_comes_back_as_aiogram_parses_it(name: str) -> None:
    body, raw = EDITOR_TEXTS[name]
    expected = reference.Text.from_entities(body, [MessageEntity(**e) for e in raw])
    ours = neutral.Text.from_entities(body, raw)
    # Also inside a post: a heading before it moves every offset.
    expected_post = reference.as_list(reference.Bold("📢 Заголовок"), "", expected)
    ours_post = neutral.as_list(neutral.Bold("📢 Заголовок"), "", ours)
    for mine, theirs in ((ours, expected), (ours_post, expected_post)):
        text, entities = mine.render()
        expected_text, expected_entities = theirs.render()
        assert text == expected_text
        assert [e.to_dict() for e in entities] == _ours(expected_entities)


def test_sizeof_counts_utf16_units() -> None:
    assert neutral.sizeof("") == 0
    assert neutral.sizeof("абв") == 3
    assert neutral.sizeof("😀") == 2
    assert neutral.sizeof("👨‍👩‍👧") == reference.sizeof("👨‍👩‍👧") == 8


def test_a_date_time_node_takes_a_datetime() -> None:
    moment = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    theirs = reference.DateTime("10:00", unix_time=moment).render()
    mine = neutral.DateTime("10:00", unix_time=moment).render()
    assert [e.to_dict() for e in mine[1]] == _ours(theirs[1])


DEEP = 10_000  # far past Python's recursion limit (1 000)


def test_a_tree_nested_past_the_recursion_limit_renders() -> None:
    node: neutral.Text = neutral.Italic("глубоко")
    for level in range(DEEP):
        node = (neutral.Bold if level % 2 else neutral.Italic)(node, "!")
    text, entities = neutral.Text("до ", node, " после").render()
    assert text == "до глубоко" + "!" * DEEP + " после"
    assert len(entities) == DEEP + 1
    # Outermost last among those at one offset, as the recursive walk (and aiogram) order them.
    assert entities[-1].length == len("глубоко") + DEEP and entities[0].length == len("глубоко")
    assert len(node) == len("глубоко") + DEEP


def test_entities_nested_past_the_recursion_limit_come_back_as_text() -> None:
    text = "до глубоко после"
    entities = [{"type": "bold", "offset": 3, "length": 7} for _ in range(DEEP)]
    tree = neutral.Text.from_entities(text, entities)
    rendered, back = tree.render()
    assert rendered == text
    assert [e.to_dict() for e in back] == entities


def test_shallow_keeps_the_outer_levels_and_drops_what_is_nested_deeper() -> None:
    deep = [{"type": "bold", "offset": 0, "length": 5}] * 20
    side = {"type": "italic", "offset": 6, "length": 3}
    inner = {"type": "code", "offset": 1, "length": 2}
    kept = neutral.shallow([*deep, side, inner], depth=3)
    assert kept == [*deep[:3], side]
    assert neutral.shallow([inner, side], depth=1) == [inner, side]


def test_repr_reads_like_the_calls_and_survives_any_depth() -> None:
    node = neutral.Text("a ", neutral.Bold("b", neutral.TextLink("c", url="https://e.x/")), 3)
    assert repr(node) == "Text('a ', Bold('b', TextLink('c', url='https://e.x/')), 3)"
    deep: neutral.Text = neutral.Italic("x")
    for _ in range(DEEP):
        deep = neutral.Bold(deep)
    assert repr(deep).startswith("Bold(Bold(") and repr(deep).endswith("Italic('x')" + ")" * DEEP)
