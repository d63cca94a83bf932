"""Weekly bounds of /stats, the CSV cells of /export, and the picture's series."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from bot.services.charts import week_series
from bot.services.reports import _cell, week_starts

MOSCOW = ZoneInfo("Europe/Moscow")


def test_weeks_start_at_midnight_on_monday_in_the_settings_zone() -> None:
    starts = week_starts(date(2026, 11, 23), 3, MOSCOW)
    assert [s.date() for s in starts] == [
        date(2026, 11, 9),
        date(2026, 11, 16),
        date(2026, 11, 23),
    ]
    # 01:00 on Monday in Moscow is 22:00 UTC on Sunday: already the new week.
    monday_early = datetime(2026, 11, 22, 22, 0, tzinfo=UTC)
    sunday_late = datetime(2026, 11, 22, 20, 30, tzinfo=UTC)
    assert monday_early >= starts[2] > sunday_late


def test_week_series_put_an_unknown_role_with_the_unset_one() -> None:
    order = [("teacher", "Педагог"), ("", "Роль не указана")]
    counts = {(0, "teacher"): 2, (1, "teacher"): 1, (1, "legacy"): 4, (1, ""): 1, (5, "x"): 9}
    series = week_series(2, counts, order)
    assert [(s.label, s.values) for s in series] == [
        ("Педагог", (2, 1)),
        ("Роль не указана", (0, 5)),
    ]


def test_cells_that_look_like_formulas_stay_text() -> None:
    assert _cell("=1+1") == "'=1+1"
    assert _cell("+7 900") == "'+7 900"
    assert _cell("@cmd") == "'@cmd"
    assert _cell("Школа №5") == "Школа №5"
    assert _cell(None) == ""
