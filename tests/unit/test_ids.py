"""Typed numbers checked against what the database can hold."""

from __future__ import annotations

import pytest

from bot.content.ids import DB_INT_MAX, is_number, parse_id


@pytest.mark.parametrize(
    ("text", "expected"),
    [("12", 12), (" 7 ", 7), ("007", 7), (str(DB_INT_MAX), DB_INT_MAX), ("0" * 30 + "5", 5)],
)
def test_a_record_number(text: str, expected: int) -> None:
    assert parse_id(text) == expected


@pytest.mark.parametrize(
    "text", ["", "0", "-1", "+1", "1.5", "²", "١٢", str(2**63), str(10**30), "1" * 5000, "abc"]
)
def test_not_a_record_number(text: str) -> None:
    assert parse_id(text) is None


def test_only_ascii_digits_are_a_number() -> None:
    assert is_number("123")
    assert not is_number("١٢")
    assert not is_number("²")
    assert not is_number("")
