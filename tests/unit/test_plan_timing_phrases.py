"""Timing phrases as real annual plans write them (issue #11): quarters of the school year,
weekly rhythms, deadlines, spans with days, years after a comma, school years, typos.

Each row is (phrase, the plan's school year, what it means); the dates are exact. Anything the
importer does not understand stays None, so the row is reported to the editor, never guessed.
"""

from __future__ import annotations

from datetime import date

import pytest

from bot.content.plan import (
    DateRange,
    Every,
    Months,
    Recurring,
    Undated,
    When,
    parse_plan,
    resolve_timing,
    school_year_from_title,
)

Y23 = (2023, 2024)
Y24 = (2024, 2025)
Y26 = (2026, 2027)


def _range(start: str, end: str) -> DateRange:
    return DateRange(date.fromisoformat(start), date.fromisoformat(end))


def _every(every: Every, times: int, first: int, weekdays: tuple[int, ...] = ()) -> Recurring:
    return Recurring(every, times, date(first, 9, 1), date(first + 1, 6, 30), weekdays)


MON, TUE, WED, THU, FRI = range(5)

PHRASES: list[tuple[str, tuple[int, int], When]] = [
    # quarters of the school year: I Sep–Oct, II Nov–Dec, III Jan–Mar, IV Apr–May
    ("I четверть", Y23, _range("2023-09-01", "2023-10-31")),
    ("1 четверть", Y23, _range("2023-09-01", "2023-10-31")),
    ("II четверть", Y24, _range("2024-11-01", "2024-12-31")),
    ("III четверть", Y24, _range("2025-01-01", "2025-03-31")),
    ("IV четверть", Y24, _range("2025-04-01", "2025-05-31")),
    ("\u0406 четверть", Y24, _range("2024-09-01", "2024-10-31")),  # Cyrillic І
    ("в 3 четверти", Y26, _range("2027-01-01", "2027-03-31")),
    ("во второй четверти", Y26, _range("2026-11-01", "2026-12-31")),
    ("1-я четверть", Y26, _range("2026-09-01", "2026-10-31")),
    ("II–III четверть", Y23, _range("2023-11-01", "2024-03-31")),
    ("II - III четверти", Y23, _range("2023-11-01", "2024-03-31")),
    ("I-IV четверть", Y23, _range("2023-09-01", "2024-05-31")),
    ("III четверть 2025 г.", Y23, _range("2025-01-01", "2025-03-31")),  # its calendar year
    ("I четверть 2024-2025 уч. г.", Y23, _range("2024-09-01", "2024-10-31")),
    ("1 раз в четверть", Y23, _every(Every.SCHOOL_QUARTER, 1, 2023)),
    ("раз в четверть", Y24, _every(Every.SCHOOL_QUARTER, 1, 2024)),
    ("2 раза в четверть", Y24, _every(Every.SCHOOL_QUARTER, 2, 2024)),
    ("каждую четверть", Y24, _every(Every.SCHOOL_QUARTER, 1, 2024)),
    ("в конце четверти", Y24, _every(Every.SCHOOL_QUARTER, 1, 2024)),
    ("В конце каждой четверти", Y24, _every(Every.SCHOOL_QUARTER, 1, 2024)),
    ("по итогам четверти", Y24, _every(Every.SCHOOL_QUARTER, 1, 2024)),
    # weekly
    ("еженедельно", Y23, _every(Every.WEEK, 1, 2023)),
    ("Еженедельно", Y26, _every(Every.WEEK, 1, 2026)),
    ("еженедельно, по четвергам", Y23, _every(Every.WEEK, 1, 2023, (THU,))),
    ("Еженедельно по пятницам", Y24, _every(Every.WEEK, 1, 2024, (FRI,))),
    ("еженедельно (по средам)", Y24, _every(Every.WEEK, 1, 2024, (WED,))),
    ("еженедельно, по вторникам и четвергам", Y24, _every(Every.WEEK, 2, 2024, (TUE, THU))),
    ("каждый вторник", Y23, _every(Every.WEEK, 1, 2023, (TUE,))),
    ("каждую среду", Y24, _every(Every.WEEK, 1, 2024, (WED,))),
    ("по понедельникам", Y24, _every(Every.WEEK, 1, 2024, (MON,))),
    ("1 раз в неделю", Y24, _every(Every.WEEK, 1, 2024)),
    ("2 раза в неделю (вторник, четверг)", Y24, _every(Every.WEEK, 2, 2024, (TUE, THU))),
    ("еженедельно в течение года", Y24, _every(Every.WEEK, 1, 2024)),
    # deadlines: from the plan's first day to that day
    ("до 15 сентября", Y23, _range("2023-09-01", "2023-09-15")),
    ("До 15 сентября", Y26, _range("2026-09-01", "2026-09-15")),
    ("до 01.10.2023", Y23, _range("2023-09-01", "2023-10-01")),
    ("до 01.10.2023 г.", Y23, _range("2023-09-01", "2023-10-01")),
    ("до 15 августа", Y24, _range("2024-09-01", "2025-08-15")),  # January–August: 2nd year
    ("не позднее 20 мая", Y23, _range("2023-09-01", "2024-05-20")),
    ("не позже 25.12", Y24, _range("2024-09-01", "2024-12-25")),
    ("в срок до 1 марта 2025 года", Y24, _range("2024-09-01", "2025-03-01")),
    # spans with days, and an open start running to the plan's last day
    ("с 10 по 20 ноября", Y23, _range("2023-11-10", "2023-11-20")),
    ("10–20 ноября", Y23, _range("2023-11-10", "2023-11-20")),
    ("10 - 20 ноября 2024 г.", Y24, _range("2024-11-10", "2024-11-20")),
    ("с 28 октября по 3 ноября", Y23, _range("2023-10-28", "2023-11-03")),
    ("с 25 декабря по 10 января", Y24, _range("2024-12-25", "2025-01-10")),
    ("с 14 октября", Y23, _range("2023-10-14", "2024-06-30")),
    ("С 1 февраля 2025 г.", Y24, _range("2025-02-01", "2025-06-30")),
    ("с ноября", Y24, _range("2024-11-01", "2025-06-30")),
    ("со II полугодия", Y24, _range("2025-01-01", "2025-06-30")),
    ("с III четверти", Y24, _range("2025-01-01", "2025-06-30")),
    ("начиная с 10.01", Y24, _range("2025-01-10", "2025-06-30")),
    # a year after a comma, with «года» or «г.», lower-case months
    ("Ноябрь, 2023", Y23, _range("2023-11-01", "2023-11-30")),
    ("октябрь–декабрь, 2024 года", Y24, _range("2024-10-01", "2024-12-31")),
    ("март – апрель 2024 г.", Y23, _range("2024-03-01", "2024-04-30")),
    ("Январь, 2025 г.", Y24, _range("2025-01-01", "2025-01-31")),
    ("сентябрь", Y23, _range("2023-09-01", "2023-09-30")),
    ("май", Y23, _range("2024-05-01", "2024-05-31")),
    ("сентябрь, 2023, май, 2024", Y23, Months(((2023, 9), (2024, 5)))),
    # a school year written out: the whole school year
    ("2024-2025 уч. г.", Y24, _range("2024-09-01", "2025-06-30")),
    ("2024-2025 уч. г.", Y23, _range("2024-09-01", "2025-06-30")),  # the phrase's own year
    ("2023/24 уч. г.", Y23, _range("2023-09-01", "2024-06-30")),
    ("2024–2025 учебный год", Y24, _range("2024-09-01", "2025-06-30")),
    ("учебный год", Y24, _range("2024-09-01", "2025-06-30")),
    ("в течение 2024-2025 учебного года", Y24, _range("2024-09-01", "2025-06-30")),
    ("В течение 2023/2024 уч. года", Y24, _range("2023-09-01", "2024-06-30")),
    # typos: a doubled word, a missing space, shorthands
    ("в течение течение года", Y23, _range("2023-09-01", "2024-06-30")),
    ("В течение  года года", Y23, _range("2023-09-01", "2024-06-30")),
    ("сентябрь-октябрь2024", Y24, _range("2024-09-01", "2024-10-31")),
    ("до15 сентября", Y23, _range("2023-09-01", "2023-09-15")),
    ("с 10по 20 ноября", Y23, _range("2023-11-10", "2023-11-20")),
    ("Ноябрь2023", Y23, _range("2023-11-01", "2023-11-30")),
    ("в теч. года", Y23, _range("2023-09-01", "2024-06-30")),
    ("В теч. учебного года", Y24, _range("2024-09-01", "2025-06-30")),
    ("втечение года", Y23, _range("2023-09-01", "2024-06-30")),
    ("Втечение учебного года", Y24, _range("2024-09-01", "2025-06-30")),
    ("01.10.2023г.", Y23, _range("2023-10-01", "2023-10-01")),
    # what was read before keeps its meaning
    ("По плану ИМЦ", Y24, Undated()),
    ("Два раза в год", Y24, _every(Every.YEAR, 2, 2024)),
    ("1 раз в полугодие", Y24, _every(Every.HALF_YEAR, 1, 2024)),
    ("с 1 по 15 марта", Y24, _range("2025-03-01", "2025-03-15")),
]


@pytest.mark.parametrize(
    ("text", "school_year", "expected"), PHRASES, ids=[repr(p[0]) for p in PHRASES]
)
def test_real_plan_timing_phrases(text: str, school_year: tuple[int, int], expected: When) -> None:
    assert resolve_timing(text, school_year) == expected


UNKNOWN = [
    "в течение месяца",  # which month? Only a month heading could tell (not read yet)
    "В течение месяца",
    "до мая",  # before May, or through May?
    "не позднее декабря",
    "до конца года",
    "в конце I четверти",  # which days are «the end»?
    "V четверть",
    "0 четверть",
    "II четверть - декабрь",  # a quarter of the school year against a calendar month
    "IV - I четверть",  # backwards
    "каждый второй вторник месяца",
    "по вторникам месяца",
    "еженедельно, по праздникам",
    "еженедельно, когда получится",
    "вторник",  # a day with no rhythm
    "до 01.08.2024",  # before the plan even starts (1 September 2024)
    "до 31.06",  # no such day
    "с 31 июня",
    "с 1 июля",  # after the plan's last day (30 June)
    "Ноябрь, 23",
    "Школа, 2030",
    "2024-2026 уч. г.",  # not one school year
    "ежедневно",
    "по четвергам и когда-нибудь",
    "течение течение",
]


@pytest.mark.parametrize("text", UNKNOWN)
def test_unknown_timing_is_not_guessed(text: str) -> None:
    assert resolve_timing(text, Y24) is None


def test_the_plan_may_name_its_own_days() -> None:
    """A deadline and an open start run from and to the plan's own days, not the default."""
    period = (date(2024, 8, 1), date(2025, 7, 31))
    assert resolve_timing("до 15 сентября", Y24, period=period) == _range(
        "2024-08-01", "2024-09-15"
    )
    assert resolve_timing("с 14 октября", Y24, period=period) == _range("2024-10-14", "2025-07-31")
    assert resolve_timing("еженедельно", Y24, period=period) == Recurring(
        Every.WEEK, 1, date(2024, 8, 1), date(2025, 7, 31)
    )


def test_weekly_json_names_its_days_and_others_keep_their_shape() -> None:
    weekly = resolve_timing("еженедельно, по четвергам", Y24)
    assert weekly is not None
    assert weekly.to_json() == {
        "kind": "recurring",
        "every": "week",
        "times": 1,
        "start": "2024-09-01",
        "end": "2025-06-30",
        "weekdays": [3],
    }
    quarterly = resolve_timing("1 раз в четверть", Y24)
    assert quarterly is not None
    assert quarterly.to_json() == {
        "kind": "recurring",
        "every": "school-quarter",
        "times": 1,
        "start": "2024-09-01",
        "end": "2025-06-30",
    }


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("План работы на 2023/24 уч. г.", (2023, 2024)),
        ("План на 2024-2025 уч. г.", (2024, 2025)),
        ("План работы на 2024 год", None),  # a calendar-year plan: not a school year
    ],
)
def test_school_year_from_title(title: str, expected: tuple[int, int] | None) -> None:
    assert school_year_from_title(title) == expected


def test_a_school_year_inside_a_text_rows_title_is_not_its_timing() -> None:
    """In a row of text, «…на 2024-2025 учебный год» ends the title; the timing comes after."""
    text = (
        "План работы на 2024-2025 учебный год\n1. Раздел\n"
        "1\nУтверждение плана работы на 2024-2025 учебный год\nСентябрь\nРуководители ОУ\nПлан\n"
    )
    [item] = parse_plan(text).items
    assert (item.title, item.timing, item.audience) == (
        "Утверждение плана работы на 2024-2025 учебный год",
        "Сентябрь",
        "Руководители ОУ",
    )
    assert item.when == _range("2024-09-01", "2024-09-30")


ROWS = "План работы на 2024-2025 учебный год\n1. Раздел\n1\n"


@pytest.mark.parametrize(
    ("row", "timing", "expected"),
    [
        ("Открытые уроки\nЕженедельно, по четвергам\nУчителя ОУ\nОбмен опытом\n",
         "Еженедельно, по четвергам", _every(Every.WEEK, 1, 2024, (THU,))),
        ("Мониторинг\nI четверть\nЗаместители директоров\nСправка\n",
         "I четверть", _range("2024-09-01", "2024-10-31")),
        ("Совещание\n1 раз в четверть\nРуководители ОУ\nПротокол\n",
         "1 раз в четверть", _every(Every.SCHOOL_QUARTER, 1, 2024)),
        ("Сдача отчётов\nНе позднее 20 мая\nРуководители ОУ\nОтчёт\n",
         "Не позднее 20 мая", _range("2024-09-01", "2025-05-20")),
        ("Приём заявок\nС 14 октября\nПедагоги\nСписок\n",
         "С 14 октября", _range("2024-10-14", "2025-06-30")),
        ("Консультации\nКаждый вторник\nМолодые педагоги\nПомощь\n",
         "Каждый вторник", _every(Every.WEEK, 1, 2024, (TUE,))),
        ("Курсы\nНоябрь, 2024\nПедагоги\nУдостоверения\n",
         "Ноябрь, 2024", _range("2024-11-01", "2024-11-30")),
        ("Работа с сайтом\nВтечение года\nМетодисты\nНовости\n",
         "Втечение года", _range("2024-09-01", "2025-06-30")),
    ],
)  # fmt: skip
def test_a_row_of_text_is_cut_at_the_new_phrases(row: str, timing: str, expected: When) -> None:
    plan = parse_plan(ROWS + row)
    [item] = plan.items
    title, _, audience, _ = row.split("\n", 3)
    assert (item.title, item.timing, item.audience, item.when) == (
        title, timing, audience, expected,
    )  # fmt: skip
    assert not plan.unresolved
