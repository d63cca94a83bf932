"""Moments written the way editors write them."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.content.when import lacks_time, parse_when

MSK = ZoneInfo("Europe/Moscow")
# Friday, 27 November 2026, 14:20 in Moscow.
NOW = datetime(2026, 11, 27, 14, 20, tzinfo=MSK)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15.12 10:00", datetime(2026, 12, 15, 10, 0, tzinfo=MSK)),
        ("15.12.2026 в 10:00", datetime(2026, 12, 15, 10, 0, tzinfo=MSK)),
        ("20.12.2026 18:30", datetime(2026, 12, 20, 18, 30, tzinfo=MSK)),
        ("15.01 9:00", datetime(2027, 1, 15, 9, 0, tzinfo=MSK)),
        ("15 декабря в 10:00", datetime(2026, 12, 15, 10, 0, tzinfo=MSK)),
        ("завтра в 9", datetime(2026, 11, 28, 9, 0, tzinfo=MSK)),
        ("Завтра в 7 вечера", datetime(2026, 11, 28, 19, 0, tzinfo=MSK)),
        ("послезавтра 18:30", datetime(2026, 11, 29, 18, 30, tzinfo=MSK)),
        ("в понедельник 10:00", datetime(2026, 11, 30, 10, 0, tzinfo=MSK)),
        ("в пятницу в 18", datetime(2026, 11, 27, 18, 0, tzinfo=MSK)),
        ("в пятницу в 10", datetime(2026, 12, 4, 10, 0, tzinfo=MSK)),
        ("во вторник в 9.30", datetime(2026, 12, 1, 9, 30, tzinfo=MSK)),
        ("сегодня в 17", datetime(2026, 11, 27, 17, 0, tzinfo=MSK)),
        ("через 2 часа", datetime(2026, 11, 27, 16, 20, tzinfo=MSK)),
        ("через час", datetime(2026, 11, 27, 15, 20, tzinfo=MSK)),
        ("через 30 минут", datetime(2026, 11, 27, 14, 50, tzinfo=MSK)),
    ],
)
def test_phrases(text: str, expected: datetime) -> None:
    assert parse_when(text, NOW) == expected


@pytest.mark.parametrize(
    "text",
    ["", "когда-нибудь", "32.12 10:00", "15.13 10:00", "завтра в 25", "15.12", "31.02 10:00"],
)
def test_not_a_moment(text: str) -> None:
    assert parse_when(text, NOW) is None


def test_past_moments_are_returned_for_the_caller_to_refuse() -> None:
    assert parse_when("сегодня в 9", NOW) == datetime(2026, 11, 27, 9, 0, tzinfo=MSK)
    assert parse_when("01.01.2026 10:00", NOW) == datetime(2026, 1, 1, 10, 0, tzinfo=MSK)
    result = parse_when("завтра в 9", NOW)
    assert result is not None and result.tzinfo is MSK


@pytest.mark.parametrize(
    "text", ["через 9999999 дней", "через 999999999 часов", "через " + "9" * 5000 + " минут"]
)
def test_a_moment_past_the_last_date_is_no_moment(text: str) -> None:
    assert parse_when(text, NOW) is None


def test_months_shortened_in_a_hurry_and_slashes_are_read() -> None:
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    expected = datetime(2026, 12, 10, 10, 0, tzinfo=UTC)
    for text in ("10 дек 10:00", "10 дек. в 10", "10/12 10:00", "10/12/2026 10:00"):
        assert parse_when(text, now) == expected, text
    assert parse_when("3 сент 9:00", now) == datetime(2027, 9, 3, 9, 0, tzinfo=UTC)


def test_a_day_without_a_time_is_told_apart_from_nonsense() -> None:
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    for text in ("10.12", "10 декабря", "завтра", "10 дек."):
        assert parse_when(text, now) is None and lacks_time(text, now), text
    for text in ("ИМЦ, ауд. 12", "12", "скоро"):
        assert not lacks_time(text, now), text
