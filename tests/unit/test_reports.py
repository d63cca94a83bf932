"""Weekly buckets of /stats and the CSV cells of /export."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from bot.services.reports import _cell, week_counts

MOSCOW = ZoneInfo("Europe/Moscow")


def test_weeks_are_iso_weeks_in_the_settings_zone() -> None:
    # 23:30 on Sunday in Moscow (20:30 UTC) belongs to that week; 01:00 on Monday in Moscow
    # (22:00 UTC, still Sunday in UTC) to the next.
    sunday_late = datetime(2026, 11, 22, 20, 30, tzinfo=UTC).astimezone(MOSCOW)
    monday_early = datetime(2026, 11, 22, 22, 0, tzinfo=UTC).astimezone(MOSCOW)
    long_ago = datetime(2026, 1, 5, 12, 0, tzinfo=MOSCOW)
    weeks = week_counts([sunday_late, monday_early, long_ago], date(2026, 11, 23), 3)
    assert weeks == [(date(2026, 11, 9), 0), (date(2026, 11, 16), 1), (date(2026, 11, 23), 1)]


def test_cells_that_look_like_formulas_stay_text() -> None:
    assert _cell("=1+1") == "'=1+1"
    assert _cell("+7 900") == "'+7 900"
    assert _cell("@cmd") == "'@cmd"
    assert _cell("Школа №5") == "Школа №5"
    assert _cell(None) == ""
