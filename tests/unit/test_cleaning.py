"""Text from outside: storable, loggable, and names that show what they say."""

from __future__ import annotations

import json
import re

import pytest

from bot.content.cleaning import clean_json, clean_name, clean_text, loads_clean


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def test_lone_surrogates_and_controls_are_replaced_keeping_the_length() -> None:
    raw = json.loads('"a\\ud800b\\udfffc\\u0000d\\u001be\\u0085f\\tg\\nh"')
    cleaned = clean_text(raw)
    assert cleaned == "a\ufffdb\ufffdc d e f\tg\nh"
    assert _utf16(cleaned) == _utf16(raw)  # entity offsets still point at the same text
    cleaned.encode()  # UTF-8 at last


def test_proper_pairs_and_ordinary_text_are_untouched() -> None:
    text = json.loads('"Школа \\ud83c\\udf93 № 5 — «Ёлка»\\u200d"')
    assert clean_text(text) == text == "Школа 🎓 № 5 — «Ёлка»\u200d"


def test_every_string_of_an_update_is_cleaned() -> None:
    update = json.loads(
        '{"update_id": 1, "message": {"text": "\\ud800hi", "entities": [{"type": "bold"}],'
        ' "document": {"file_name": "a\\u0000.txt"}}, "callback_query": {"data": "x\\udc00"}}'
    )
    assert clean_json(update) == {
        "update_id": 1,
        "message": {
            "text": "\ufffdhi",
            "entities": [{"type": "bold"}],
            "document": {"file_name": "a .txt"},
        },
        "callback_query": {"data": "x\ufffd"},
    }


def _upper_escapes(document: str) -> str:
    return re.sub(r"\\u[0-9a-f]{4}", lambda m: "\\u" + m.group()[2:].upper(), document)


def test_a_document_read_without_a_walk_through_is_cleaned_all_the_same() -> None:
    """Every character of the BMP, surrogates included, escaped or written as it is, in either
    case of hex: the quick path (no walk when nothing could need cleaning) gives what the
    full walk gives."""
    for code in range(0x10000):
        value = {"t": f"a{chr(code)}b", "n": [1, {"k": chr(code)}]}
        for document in (
            json.dumps(value),
            _upper_escapes(json.dumps(value)),
            json.dumps(value, ensure_ascii=False),
        ):
            assert loads_clean(document) == clean_json(json.loads(document)), hex(code)


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("  ГБОУ   СОШ № 5 ", "ГБОУ СОШ № 5"),
        ("\u202eакшоШ", "акшоШ"),  # the right-to-left override that would show «Школа»
        ("Школа\u2066 № 5\u2069", "Школа № 5"),
        ("Шко\u200bла\u00ad № 5\ufeff", "Школа № 5"),
        ("ДОУ\u00a0№\u00a045", "ДОУ № 45"),
        ("Школа\ud800\x00", "Школа"),
    ],
)
def test_a_name_keeps_only_what_shows(typed: str, shown: str) -> None:
    assert clean_name(typed) == shown


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "   ",
        "\u3000\t\n",
        "\u200b\u200d\u2060",
        "\u202e\u202c",
        "\u3164\u2800",
        "\u0301\u0301",
    ],
)
def test_a_name_of_nothing_visible_is_empty(typed: str) -> None:
    assert clean_name(typed) == ""
