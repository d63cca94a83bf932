"""What's-next questions read with a fixed today: windows, audiences, labels, and non-questions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.content.models import Item, ItemKind, OrgKind, Role
from bot.content.whatsnext import (
    DEFAULT_HORIZON_DAYS,
    NextQuery,
    answer_items,
    covers,
    default_query,
    item_days,
    parse_next_query,
    wants,
    window_moments,
)

FRIDAY = date(2026, 11, 27)  # a Friday in November
LATE_DECEMBER = date(2026, 12, 28)  # a Monday: next week and next month are next year
NEW_YEARS_EVE = date(2026, 12, 31)
MSK = ZoneInfo("Europe/Moscow")

UPCOMING = (date(2026, 11, 27), date(2026, 12, 26), "Ближайшие мероприятия")
THIS_WEEK = (date(2026, 11, 27), date(2026, 11, 29), "Мероприятия на этой неделе")
YEAR_END = (date(2026, 11, 27), date(2026, 12, 31), "Мероприятия до конца года")

# question, (start, end, label) asked on FRIDAY
WINDOWS_ON_FRIDAY: list[tuple[str, tuple[date, date, str]]] = [
    ("что дальше?", UPCOMING),
    ("Что дальше", UPCOMING),
    ("ближайшие мероприятия", UPCOMING),
    ("Какие ближайшие мероприятия?", UPCOMING),
    ("/next", UPCOMING),
    ("что на этой неделе", THIS_WEEK),
    ("Что на этой неделе?", THIS_WEEK),
    ("что до конца недели", THIS_WEEK),
    (
        "на следующей неделе",
        (date(2026, 11, 30), date(2026, 12, 6), "Мероприятия на следующей неделе"),
    ),
    (
        "А что будет на следующей неделе?",
        (date(2026, 11, 30), date(2026, 12, 6), "Мероприятия на следующей неделе"),
    ),
    ("что сегодня", (date(2026, 11, 27), date(2026, 11, 27), "Мероприятия сегодня")),
    ("ЧТО СЕГОДНЯ?!", (date(2026, 11, 27), date(2026, 11, 27), "Мероприятия сегодня")),
    ("что завтра", (date(2026, 11, 28), date(2026, 11, 28), "Мероприятия завтра")),
    ("что послезавтра", (date(2026, 11, 29), date(2026, 11, 29), "Мероприятия послезавтра")),
    ("что в марте", (date(2027, 3, 1), date(2027, 3, 31), "Мероприятия в марте")),
    ("в марте", (date(2027, 3, 1), date(2027, 3, 31), "Мероприятия в марте")),
    ("В МАРТЕ?", (date(2027, 3, 1), date(2027, 3, 31), "Мероприятия в марте")),
    (
        "подскажите, пожалуйста, что в марте?",
        (date(2027, 3, 1), date(2027, 3, 31), "Мероприятия в марте"),
    ),
    ("планы на декабрь", (date(2026, 12, 1), date(2026, 12, 31), "Мероприятия в декабре")),
    ("Планы на декабрь?", (date(2026, 12, 1), date(2026, 12, 31), "Мероприятия в декабре")),
    ("мероприятия в январе", (date(2027, 1, 1), date(2027, 1, 31), "Мероприятия в январе")),
    ("что в мае", (date(2027, 5, 1), date(2027, 5, 31), "Мероприятия в мае")),
    ("что в ноябре", (date(2026, 11, 27), date(2026, 11, 30), "Мероприятия в ноябре")),
    ("в октябре", (date(2027, 10, 1), date(2027, 10, 31), "Мероприятия в октябре 2027")),
    ("в этом месяце", (date(2026, 11, 27), date(2026, 11, 30), "Мероприятия в ноябре")),
    ("что до конца месяца", (date(2026, 11, 27), date(2026, 11, 30), "Мероприятия в ноябре")),
    ("в следующем месяце", (date(2026, 12, 1), date(2026, 12, 31), "Мероприятия в декабре")),
    ("до конца года", YEAR_END),
    ("Что ещё до конца года?", YEAR_END),
    ("15 марта", (date(2027, 3, 15), date(2027, 3, 15), "Мероприятия 15 марта")),
    ("что 15 марта?", (date(2027, 3, 15), date(2027, 3, 15), "Мероприятия 15 марта")),
    ("на 15.03", (date(2027, 3, 15), date(2027, 3, 15), "Мероприятия 15 марта")),
    ("что на 3.12?", (date(2026, 12, 3), date(2026, 12, 3), "Мероприятия 3 декабря")),
    ("что 27 ноября", (date(2026, 11, 27), date(2026, 11, 27), "Мероприятия 27 ноября")),
    ("на 15.03.2028", (date(2028, 3, 15), date(2028, 3, 15), "Мероприятия 15 марта 2028")),
    ("1 сентября 2027", (date(2027, 9, 1), date(2027, 9, 1), "Мероприятия 1 сентября 2027")),
    ("что 29 февраля", (date(2028, 2, 29), date(2028, 2, 29), "Мероприятия 29 февраля 2028")),
    # the first window written counts
    ("что в марте на этой неделе", (date(2027, 3, 1), date(2027, 3, 31), "Мероприятия в марте")),
    # an impossible day falls back to its month
    ("что 32 марта", (date(2027, 3, 1), date(2027, 3, 31), "Мероприятия в марте")),
]

WINDOWS_IN_LATE_DECEMBER: list[tuple[str, tuple[date, date, str]]] = [
    ("что дальше?", (date(2026, 12, 28), date(2027, 1, 26), "Ближайшие мероприятия")),
    ("что на этой неделе", (date(2026, 12, 28), date(2027, 1, 3), "Мероприятия на этой неделе")),
    (
        "на следующей неделе",
        (date(2027, 1, 4), date(2027, 1, 10), "Мероприятия на следующей неделе"),
    ),
    ("в январе", (date(2027, 1, 1), date(2027, 1, 31), "Мероприятия в январе")),
    ("что в декабре", (date(2026, 12, 28), date(2026, 12, 31), "Мероприятия в декабре")),
    ("в этом месяце", (date(2026, 12, 28), date(2026, 12, 31), "Мероприятия в декабре")),
    ("в следующем месяце", (date(2027, 1, 1), date(2027, 1, 31), "Мероприятия в январе")),
    ("до конца года", (date(2026, 12, 28), date(2026, 12, 31), "Мероприятия до конца года")),
    ("что в ноябре", (date(2027, 11, 1), date(2027, 11, 30), "Мероприятия в ноябре 2027")),
    ("15 марта", (date(2027, 3, 15), date(2027, 3, 15), "Мероприятия 15 марта")),
    ("на 15.03", (date(2027, 3, 15), date(2027, 3, 15), "Мероприятия 15 марта")),
    ("что 20 декабря", (date(2027, 12, 20), date(2027, 12, 20), "Мероприятия 20 декабря 2027")),
    ("что завтра", (date(2026, 12, 29), date(2026, 12, 29), "Мероприятия завтра")),
]


@pytest.mark.parametrize(("text", "expected"), WINDOWS_ON_FRIDAY)
def test_windows_on_a_friday_in_november(text: str, expected: tuple[date, date, str]) -> None:
    query = parse_next_query(text, FRIDAY)
    assert query is not None
    assert (query.start, query.end, query.label) == expected
    assert not query.explicit_audience and not query.roles and not query.org_kinds


@pytest.mark.parametrize(("text", "expected"), WINDOWS_IN_LATE_DECEMBER)
def test_windows_roll_over_into_next_year(text: str, expected: tuple[date, date, str]) -> None:
    query = parse_next_query(text, LATE_DECEMBER)
    assert query is not None
    assert (query.start, query.end, query.label) == expected


def test_tomorrow_on_new_years_eve_is_next_year() -> None:
    query = parse_next_query("что завтра?", NEW_YEARS_EVE)
    assert query is not None
    assert (query.start, query.end) == (date(2027, 1, 1), date(2027, 1, 1))


# question, roles, org kinds, label (asked on FRIDAY, so the default window is the next 30 days)
AUDIENCES: list[tuple[str, set[Role], set[OrgKind], str]] = [
    ("что для координаторов", {Role.COORDINATOR}, set(), "Мероприятия для координаторов"),
    ("Что для координаторов?", {Role.COORDINATOR}, set(), "Мероприятия для координаторов"),
    ("для координатора", {Role.COORDINATOR}, set(), "Мероприятия для координаторов"),
    ("координаторам", {Role.COORDINATOR}, set(), "Мероприятия для координаторов"),
    ("для заместителей директора", {Role.COORDINATOR}, set(), "Мероприятия для координаторов"),
    ("для завучей", {Role.COORDINATOR}, set(), "Мероприятия для координаторов"),
    ("что для руководителей", {Role.HEAD}, set(), "Мероприятия для руководителей"),
    ("для директоров", {Role.HEAD}, set(), "Мероприятия для руководителей"),
    ("что для педагогов", {Role.TEACHER}, set(), "Мероприятия для педагогов"),
    ("для учителей", {Role.TEACHER}, set(), "Мероприятия для педагогов"),
    ("ДЛЯ УЧИТЕЛЕЙ!", {Role.TEACHER}, set(), "Мероприятия для педагогов"),
    ("для воспитателей", {Role.PRESCHOOL}, set(), "Мероприятия для воспитателей"),
    ("для методистов", {Role.METHODIST}, set(), "Мероприятия для методистов"),
    ("что для детских садов", set(), {OrgKind.KINDERGARTEN}, "Мероприятия для детских садов"),
    ("для ДОО", set(), {OrgKind.KINDERGARTEN}, "Мероприятия для детских садов"),
    ("для доу", set(), {OrgKind.KINDERGARTEN}, "Мероприятия для детских садов"),
    ("что для детсадов", set(), {OrgKind.KINDERGARTEN}, "Мероприятия для детских садов"),
    ("а детсадам?", set(), {OrgKind.KINDERGARTEN}, "Мероприятия для детских садов"),
    ("для школ", set(), {OrgKind.SCHOOL}, "Мероприятия для школ"),
    ("для ОУ", set(), {OrgKind.SCHOOL}, "Мероприятия для школ"),
    ("для доп. образования", set(), {OrgKind.EXTRA}, "Мероприятия для доп. образования"),
    (
        "что для дополнительного образования",
        set(),
        {OrgKind.EXTRA},
        "Мероприятия для доп. образования",
    ),
    (
        "что для координатора школы",
        {Role.COORDINATOR},
        {OrgKind.SCHOOL},
        "Мероприятия для координаторов школ",
    ),
    (
        "для педагогов и воспитателей",
        {Role.TEACHER, Role.PRESCHOOL},
        set(),
        "Мероприятия для педагогов и воспитателей",
    ),
    (
        "для школ и ДОО",
        set(),
        {OrgKind.SCHOOL, OrgKind.KINDERGARTEN},
        "Мероприятия для школ и детских садов",
    ),
    ("ближайшие мероприятия для всех", set(Role), set(OrgKind), "Мероприятия для всех"),
]


@pytest.mark.parametrize(("text", "roles", "orgs", "label"), AUDIENCES)
def test_audiences(text: str, roles: set[Role], orgs: set[OrgKind], label: str) -> None:
    query = parse_next_query(text, FRIDAY)
    assert query is not None
    assert query.explicit_audience
    assert (query.roles, query.org_kinds, query.label) == (
        frozenset(roles),
        frozenset(orgs),
        label,
    )
    assert (query.start, query.end) == UPCOMING[:2]


# question, today, start, end, roles, org kinds, label
COMBINATIONS: list[tuple[str, date, date, date, set[Role], set[OrgKind], str]] = [
    (
        "что в марте для координаторов",
        FRIDAY,
        date(2027, 3, 1),
        date(2027, 3, 31),
        {Role.COORDINATOR},
        set(),
        "Мероприятия в марте для координаторов",
    ),
    (
        "Для координаторов в марте что-нибудь есть?",
        FRIDAY,
        date(2027, 3, 1),
        date(2027, 3, 31),
        {Role.COORDINATOR},
        set(),
        "Мероприятия в марте для координаторов",
    ),
    (
        "для детских садов на этой неделе",
        FRIDAY,
        date(2026, 11, 27),
        date(2026, 11, 29),
        set(),
        {OrgKind.KINDERGARTEN},
        "Мероприятия на этой неделе для детских садов",
    ),
    (
        "педагогам доп. образования что на следующей неделе",
        LATE_DECEMBER,
        date(2027, 1, 4),
        date(2027, 1, 10),
        {Role.TEACHER},
        {OrgKind.EXTRA},
        "Мероприятия на следующей неделе для педагогов доп. образования",
    ),
    (
        "воспитателям что завтра",
        FRIDAY,
        date(2026, 11, 28),
        date(2026, 11, 28),
        {Role.PRESCHOOL},
        set(),
        "Мероприятия завтра для воспитателей",
    ),
    (
        "для руководителей ОУ до конца года",
        FRIDAY,
        date(2026, 11, 27),
        date(2026, 12, 31),
        {Role.HEAD},
        {OrgKind.SCHOOL},
        "Мероприятия до конца года для руководителей школ",
    ),
    (
        "я учитель, какие ближайшие мероприятия?",
        FRIDAY,
        date(2026, 11, 27),
        date(2026, 12, 26),
        {Role.TEACHER},
        set(),
        "Мероприятия для педагогов",
    ),
    (
        "методистам на 15.03",
        FRIDAY,
        date(2027, 3, 15),
        date(2027, 3, 15),
        {Role.METHODIST},
        set(),
        "Мероприятия 15 марта для методистов",
    ),
]


@pytest.mark.parametrize(("text", "today", "start", "end", "roles", "orgs", "label"), COMBINATIONS)
def test_combinations(
    text: str,
    today: date,
    start: date,
    end: date,
    roles: set[Role],
    orgs: set[OrgKind],
    label: str,
) -> None:
    query = parse_next_query(text, today)
    assert query == NextQuery(start, end, frozenset(roles), frozenset(orgs), True, label)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "?",
        "спасибо",
        "Спасибо!",
        "спасибо за мероприятия",
        "привет",
        "Здравствуйте!",
        "как подписаться",
        "Как подписаться на рассылку?",
        "отписаться от мероприятий",
        "настройки",
        "удалите мои данные",
        "привет, я учитель",
        "что делать?",
        "когда дайджест",
        "дальнейшие действия",
        "маршрут",
        "в 10.00",
        "123",
    ],
)
def test_not_a_whats_next_question(text: str) -> None:
    assert parse_next_query(text, FRIDAY) is None


def test_default_query_is_the_next_30_days() -> None:
    query = default_query(FRIDAY)
    assert DEFAULT_HORIZON_DAYS == 30
    assert query == NextQuery(
        FRIDAY,
        FRIDAY + timedelta(days=29),
        frozenset(),
        frozenset(),
        False,
        "Ближайшие мероприятия",
    )
    assert parse_next_query("что дальше?", FRIDAY) == query


# --- which items answer -------------------------------------------------------------------------

MARCH = NextQuery(
    date(2027, 3, 1), date(2027, 3, 31), frozenset(), frozenset(), False, "Мероприятия в марте"
)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (date(2027, 3, 15), date(2027, 3, 15), True),
        (date(2027, 3, 1), None, True),  # a single day on the first day
        (None, date(2027, 3, 31), True),  # a single day on the last day
        (date(2027, 2, 28), date(2027, 2, 28), False),
        (date(2027, 4, 1), date(2027, 4, 1), False),
        (date(2027, 2, 20), date(2027, 3, 1), True),  # ends on the first day
        (date(2027, 3, 31), date(2027, 4, 5), True),  # starts on the last day
        (date(2026, 9, 1), date(2027, 6, 30), True),  # the school year covers March
        (date(2026, 9, 1), date(2026, 12, 31), False),
        (None, None, False),  # undated: no days to show
    ],
)
def test_covers(start: date | None, end: date | None, expected: bool) -> None:
    assert covers(start, end, MARCH) is expected


def _item(item_id: int, **fields: Any) -> Item:
    return Item(id=item_id, kind=ItemKind.EVENT, title=f"№{item_id}", **fields)


def test_window_moments_are_local_midnights() -> None:
    since, until = window_moments(MARCH, MSK)
    assert since == datetime(2027, 3, 1, tzinfo=MSK)
    assert until == datetime(2027, 4, 1, tzinfo=MSK)
    assert since.astimezone(UTC) == datetime(2027, 2, 28, 21, tzinfo=UTC)


def test_item_days_in_local_time() -> None:
    # 22:30 UTC on 14 March is 01:30 on 15 March in Moscow
    late = _item(1, starts_at=datetime(2027, 3, 14, 22, 30, tzinfo=UTC))
    assert item_days(late, MSK) == (date(2027, 3, 15), date(2027, 3, 15))
    spanning = _item(
        2,
        starts_at=datetime(2027, 3, 15, 7, tzinfo=UTC),
        ends_at=datetime(2027, 3, 17, 12, tzinfo=UTC),
    )
    assert item_days(spanning, MSK) == (date(2027, 3, 15), date(2027, 3, 17))
    period = _item(3, period_start=date(2026, 9, 1), period_end=date(2027, 6, 30))
    assert item_days(period, MSK) == (date(2026, 9, 1), date(2027, 6, 30))
    assert item_days(_item(4), MSK) is None


def test_answer_lists_dated_events_first_then_ongoing_narrowest_first() -> None:
    items = [
        _item(1, period_start=date(2026, 9, 1), period_end=date(2027, 6, 30)),  # whole year
        _item(2, starts_at=datetime(2027, 3, 20, 7, tzinfo=UTC)),
        _item(3, period_start=date(2027, 3, 1), period_end=date(2027, 3, 31)),  # «март 2027»
        _item(4, starts_at=datetime(2027, 3, 5, 7, tzinfo=UTC)),
        _item(5, starts_at=datetime(2027, 4, 2, 7, tzinfo=UTC)),  # after the window
        _item(6),  # undated
        _item(7, period_start=date(2027, 1, 1), period_end=date(2027, 2, 28)),  # before
        # an exact day from the plan: starts_at at local midnight and the day as its period
        _item(
            8,
            starts_at=datetime(2027, 3, 10, tzinfo=MSK),
            period_start=date(2027, 3, 10),
            period_end=date(2027, 3, 10),
        ),
    ]
    dated, ongoing = answer_items(items, MARCH, MSK)
    assert [i.id for i in dated] == [4, 8, 2]
    assert [i.id for i in ongoing] == [3, 1]


def test_audience_of_the_question_replaces_the_askers_one_dimension_at_a_time() -> None:
    for_coordinators = _item(1, audience_roles=frozenset({Role.COORDINATOR}))
    for_kindergartens = _item(2, audience_orgs=frozenset({OrgKind.KINDERGARTEN}))
    for_kindergarten_heads = _item(
        3, audience_roles=frozenset({Role.HEAD}), audience_orgs=frozenset({OrgKind.KINDERGARTEN})
    )
    for_everyone = _item(4)
    own = parse_next_query("что дальше?", FRIDAY)
    coordinators = parse_next_query("что для координаторов", FRIDAY)
    kindergartens = parse_next_query("для детских садов", FRIDAY)
    anyone = parse_next_query("что для всех", FRIDAY)
    assert own and coordinators and kindergartens and anyone

    teacher_at_school = (Role.TEACHER, OrgKind.SCHOOL)
    head_at_school = (Role.HEAD, OrgKind.SCHOOL)
    assert not wants(for_coordinators, own, *teacher_at_school)
    assert wants(for_coordinators, coordinators, *teacher_at_school)
    assert wants(for_everyone, coordinators, *teacher_at_school)
    assert not wants(for_kindergartens, coordinators, *teacher_at_school)  # still a school
    assert wants(for_kindergartens, kindergartens, *teacher_at_school)
    assert wants(for_kindergarten_heads, kindergartens, *head_at_school)
    assert not wants(for_kindergarten_heads, kindergartens, *teacher_at_school)
    # Someone who hasn't said who they are sees everything rather than nothing.
    assert wants(for_coordinators, own, None, None)
    items = (for_coordinators, for_kindergartens, for_kindergarten_heads, for_everyone)
    assert all(wants(item, anyone, None, None) for item in items)
    assert anyone.label == "Мероприятия для всех"


def test_a_plan_row_of_listed_months_answers_only_for_those_months() -> None:
    seminars = _item(
        8, period_start=date(2021, 9, 1), period_end=date(2022, 6, 30),
        timing_json='{"kind": "months", "months": ["2021-09", "2022-03", "2022-06"]}',
    )  # fmt: skip
    all_year = _item(1, period_start=date(2021, 9, 1), period_end=date(2022, 6, 30))
    january = parse_next_query("что в январе", date(2022, 1, 10))
    march = parse_next_query("что в марте", date(2022, 1, 10))
    assert january is not None and march is not None
    assert answer_items([seminars, all_year], january, MSK) == ([], [all_year])
    # In March the seminars are the narrower answer, so they come first.
    assert answer_items([all_year, seminars], march, MSK) == ([], [seminars, all_year])
