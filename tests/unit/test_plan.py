"""The plan importer's domain logic: the real 2021-2022 plan, timing phrases, audiences, input."""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

import bot.content.plan as plan_module
from bot.content.models import OrgKind, Role
from bot.content.plan import (
    DateRange,
    Every,
    Months,
    PlanFormatError,
    PlanItem,
    PlanParse,
    PlanProblem,
    Recurring,
    Undated,
    UnresolvedReason,
    When,
    audience_codes,
    decode_plan,
    parse_plan,
    resolve_timing,
    school_year_from_title,
)
from tests.support import PLAN_2021

FIXTURE = PLAN_2021

SCHOOL_YEAR_2021 = DateRange(date(2021, 9, 1), date(2022, 6, 30))

SECTIONS = {
    1: "Информационная поддержка инновационной деятельности ОУ",
    2: "Научно-методическое сопровождение инновационной деятельности экспериментальных площадок, "
    "районных опорных площадок развития образования и инновационных практик образовательных "
    "учреждений района",
    3: "Повышение квалификации субъектов инновационной деятельности (педагогов и ОУ, "
    "организующих инновационную деятельность)",
    4: "Обеспечение преемственности и использования инновационного опыта ОУ района как механизма "
    "повышения квалификации (создание условий для использования в ОУ района инновационных "
    "образовательных технологий, популяризации инновационного опыта образовательных учреждений "
    "района) в рамках общественно-педагогической акции",
    5: "Поддержка участия ОУ, предлагающих образовательной системе инновационные продукты и "
    "инновационные модели развития, в конкурсном движении",
}

# number, section, title, timing as written, audience, resolved timing
EXPECTED: list[tuple[int, int, str, str, str, When]] = [
    (
        1,
        1,
        "Формирование, подготовка и размещение нормативно-правовых, информационных и "
        "методических материалов на сайте ИМЦ",
        "В течение года",
        "Руководители ОУ, координаторы инновационной деятельности",
        SCHOOL_YEAR_2021,
    ),
    (
        2,
        1,
        "Реализация просветительского проекта в районной медиасреде «Инфозона»",
        "Сентябрь 2021-июнь 2022",
        "Руководители и педагоги ОУ и ДОО",
        DateRange(date(2021, 9, 1), date(2022, 6, 30)),
    ),
    (
        3,
        2,
        "Заседания районного Экспертного совета",
        "Два раза в год",
        "Руководители ОУ, научные консультанты, координаторы инновационной деятельности",
        Recurring(Every.YEAR, 2, date(2021, 9, 1), date(2022, 6, 30)),
    ),
    (
        4,
        2,
        "Ведение документации районного Экспертного совета. Подготовка документации, в том числе "
        "отчета по итогам инновационной деятельности за учебный год",
        "В течение года",
        "ИМЦ",
        SCHOOL_YEAR_2021,
    ),
    (
        5,
        2,
        "Координация районных опорных площадок развития образования. Преакселатор: "
        "сопровождение, обучение, экспертиза, нетворинг, демодень",
        "В течение года",
        "Руководители ОУ, координаторы научно-методической деятельности",
        SCHOOL_YEAR_2021,
    ),
    (
        6,
        2,
        "Организация процедуры общественно-профессиональной экспертизы результатов "
        "инновационной и научно-методической деятельности ОУ",
        "2 квартал 2022",
        "Руководители ОУ, координаторы инновационной и научно-методической деятельности",
        DateRange(date(2022, 4, 1), date(2022, 6, 30)),
    ),
    (
        7,
        2,
        "Редакционно-издательская деятельность по направлениям национального проекта "
        "«Образование»",
        "По плану редакционно-издательского совета",
        "Руководители ОУ педагоги ОУ, воспитатели ДОО",
        Undated(),
    ),
    (
        8,
        3,
        "Информационно-методические совещания и семинары для координаторов инновационной "
        "деятельности ОУ района",
        "Сентябрь 2021, март, июнь 2022",
        "Координаторы инновационной деятельности ОУ района",
        Months(((2021, 9), (2022, 3), (2022, 6))),
    ),
    (
        9,
        3,
        "Цикл обучающих мероприятий инновационных площадок и районных опорных площадок развития "
        "образования для руководителей и педагогических работников ОУ «Опыт и технологии "
        "реализации успешных инновационных практик»",
        "По планам площадок",
        "Координаторы инновационной деятельности ОУ района, педагоги ОУ-площадок",
        Undated(),
    ),
    (
        10,
        3,
        "Образовательные события «Проектное управление инновационной деятельностью: от идеи до "
        "продукта»",
        "1 раз в полугодие",
        "Координаторы инновационной деятельности ОУ района, педагоги ОУ-площадок",
        Recurring(Every.HALF_YEAR, 1, date(2021, 9, 1), date(2022, 6, 30)),
    ),
    (
        11,
        3,
        "Консультации по подготовке методических материалов инновационных и опорных площадок к "
        "распространению опыта: экспертиза и упаковка контента под тиражирование",
        "В течение года",
        "Координаторы инновационной деятельности ОУ района, руководители и педагоги",
        SCHOOL_YEAR_2021,
    ),
    (
        12,
        4,
        "Общественно-педагогическая акция по распространению передового опыта инновационных "
        "площадок и районных опорных площадок развития образования",
        "В течение года",
        "Педагоги и руководители ОУ района",
        SCHOOL_YEAR_2021,
    ),
    (
        13,
        5,
        "Консультационная и методическая поддержка ОУ, разрабатывающих и внедряющих "
        "инновационные программы, проекты, модели и иные инновационные продукты",
        "В течение года",
        "ОУ района",
        SCHOOL_YEAR_2021,
    ),
]


@pytest.fixture(scope="module")
def plan() -> PlanParse:
    return parse_plan(FIXTURE.read_text(encoding="utf-8"))


# --- the real plan -------------------------------------------------------------------------------


def test_the_plan_title_gives_the_school_year(plan: PlanParse) -> None:
    assert plan.title == (
        "План мероприятий по сопровождению инновационной деятельности образовательных "
        "учреждений района на 2021-2022 учебный год"
    )
    assert plan.school_year == (2021, 2022)
    assert plan.school_days == (date(2021, 9, 1), date(2022, 6, 30))


def test_all_13_items_in_order_and_nothing_unresolved(plan: PlanParse) -> None:
    assert [item.number for item in plan.items] == list(range(1, 14))
    assert plan.unresolved == ()


@pytest.mark.parametrize(
    ("number", "section", "title", "timing", "audience", "when"),
    EXPECTED,
    ids=[f"item{row[0]}" for row in EXPECTED],
)
def test_each_item_of_the_real_plan(
    plan: PlanParse, number: int, section: int, title: str, timing: str, audience: str, when: When
) -> None:
    item = plan.items[number - 1]
    assert item.number == number
    assert item.section_number == section
    assert item.section_title == SECTIONS[section]
    assert item.title == title
    assert item.timing == timing
    assert item.audience == audience
    assert item.when == when


def test_results_are_whole_cells(plan: PlanParse) -> None:
    results = {item.number: item.result for item in plan.items}
    assert results[1] == (
        "Открытость и доступность информации о ведении инновационной деятельности ОУ района"
    )
    assert results[4] == (
        "Подготовка и оформление протоколов районного Экспертного совета, анализ и обобщение "
        "информации ОУ"
    )
    assert results[6] == (
        "Внешняя оценка, анализ результативности ведения инновационной и научно-методической "
        "деятельности ОУ района, рекомендации экспертного сообщества"
    )
    assert results[12] == (
        "Событийно-имиджевая поддержка инновационной и научно-методической деятельности. "
        "Диссеминация опыта работы, повышение инновационного микроклимата в районе"
    )
    assert results[13] == "Повышение готовности к участию в конкурсном движении"
    assert all(item.result for item in plan.items)


def test_cells_have_normal_spacing_and_no_page_junk(plan: PlanParse) -> None:
    for item in plan.items:
        for cell in (item.title, item.timing, item.audience, item.result, item.section_title):
            assert cell == cell.strip()
            assert "  " not in cell
            assert "\n" not in cell
            assert not cell.endswith((".", ","))


def test_keys_are_stable_per_school_year_and_number(plan: PlanParse) -> None:
    assert [item.key for item in plan.items][:3] == [
        "plan:2021-2022:1",
        "plan:2021-2022:2",
        "plan:2021-2022:3",
    ]
    again = parse_plan(FIXTURE.read_text(encoding="utf-8"))
    assert again == plan


def test_json_has_the_documented_shape(plan: PlanParse) -> None:
    data = json.loads(json.dumps(plan.to_json(), ensure_ascii=False))
    assert set(data) == {"items", "unresolved"}
    assert data["unresolved"] == []
    first = data["items"][0]
    assert set(first) == {"number", "label", "section", "title", "timing", "audience",
                          "responsible", "place", "result", "when"}  # fmt: skip
    assert first["section"] == {"number": 1, "title": SECTIONS[1]}
    whens = {item["number"]: item["when"] for item in data["items"]}
    assert whens[1] == {"kind": "range", "start": "2021-09-01", "end": "2022-06-30"}
    assert whens[3] == {
        "kind": "recurring",
        "every": "year",
        "times": 2,
        "start": "2021-09-01",
        "end": "2022-06-30",
    }
    assert whens[6] == {"kind": "range", "start": "2022-04-01", "end": "2022-06-30"}
    assert whens[8] == {"kind": "months", "months": ["2021-09", "2022-03", "2022-06"]}
    assert whens[9] == {"kind": "undated"}


def test_audiences_of_the_real_plan(plan: PlanParse) -> None:
    items = {item.number: item for item in plan.items}
    assert items[1].audience_roles == {Role.HEAD, Role.COORDINATOR}
    assert items[1].audience_orgs == {OrgKind.SCHOOL}
    assert items[2].audience_roles == {Role.HEAD, Role.TEACHER}
    assert items[2].audience_orgs == {OrgKind.SCHOOL, OrgKind.KINDERGARTEN}
    assert items[3].audience_roles == {Role.HEAD, Role.COORDINATOR, Role.OTHER}
    assert items[4].audience_roles == {Role.METHODIST}
    assert items[4].audience_orgs == frozenset()
    assert items[7].audience_roles == {Role.HEAD, Role.TEACHER, Role.PRESCHOOL}
    assert items[7].audience_orgs == {OrgKind.SCHOOL, OrgKind.KINDERGARTEN}
    assert items[8].audience_roles == {Role.COORDINATOR}
    assert items[13].audience_roles == frozenset()  # «ОУ района»: everyone at schools
    assert items[13].audience_orgs == {OrgKind.SCHOOL}


def test_when_bounds_give_the_overall_span(plan: PlanParse) -> None:
    items = {item.number: item for item in plan.items}
    assert items[8].when.bounds() == (date(2021, 9, 1), date(2022, 6, 30))
    assert items[6].when.bounds() == (date(2022, 4, 1), date(2022, 6, 30))
    assert items[9].when.bounds() is None


# --- timing phrases ------------------------------------------------------------------------------


def _range(start: str, end: str) -> DateRange:
    return DateRange(date.fromisoformat(start), date.fromisoformat(end))


def _recurring(every: Every, times: int, first: int) -> Recurring:
    return Recurring(every, times, date(first, 9, 1), date(first + 1, 6, 30))


TIMINGS: list[tuple[str, tuple[int, int], When]] = [
    # the whole school year
    ("В течение года", (2021, 2022), _range("2021-09-01", "2022-06-30")),
    ("В течение года", (2026, 2027), _range("2026-09-01", "2027-06-30")),
    ("В течение учебного года", (2026, 2027), _range("2026-09-01", "2027-06-30")),
    ("в течении всего учебного года", (2030, 2031), _range("2030-09-01", "2031-06-30")),
    ("В течение 2027/2028 учебного года", (2026, 2027), _range("2027-09-01", "2028-06-30")),
    ("В течение 2027 года", (2026, 2027), _range("2027-01-01", "2027-12-31")),
    # month spans, any dash, any spacing, wrapped
    ("Сентябрь 2021-июнь 2022", (2021, 2022), _range("2021-09-01", "2022-06-30")),
    ("Сентябрь 2026-июнь 2027", (2026, 2027), _range("2026-09-01", "2027-06-30")),
    ("Сентябрь 2026 - июнь 2027", (2026, 2027), _range("2026-09-01", "2027-06-30")),
    ("Сентябрь 2026–июнь 2027", (2026, 2027), _range("2026-09-01", "2027-06-30")),
    ("Сентябрь 2026 — июнь 2027", (2026, 2027), _range("2026-09-01", "2027-06-30")),
    ("Сентябрь   2026  –  июнь   2027 г.", (2026, 2027), _range("2026-09-01", "2027-06-30")),
    ("Сентябрь 2021-июнь \n\n2022 ", (2021, 2022), _range("2021-09-01", "2022-06-30")),
    ("Сентябрь 2026 —\nиюнь\n2027", (2026, 2027), _range("2026-09-01", "2027-06-30")),
    ("сентябрь 2026-\nиюнь 2027", (2026, 2027), _range("2026-09-01", "2027-06-30")),
    ("Октябрь – декабрь", (2026, 2027), _range("2026-10-01", "2026-12-31")),
    ("Ноябрь - февраль", (2026, 2027), _range("2026-11-01", "2027-02-28")),
    ("март - май 2027", (2026, 2027), _range("2027-03-01", "2027-05-31")),
    ("с сентября 2026 по май 2027", (2026, 2027), _range("2026-09-01", "2027-05-31")),
    # listed months
    ("Сентябрь 2021, март, июнь 2022", (2021, 2022), Months(((2021, 9), (2022, 3), (2022, 6)))),
    ("Сентябрь 2026, март, июнь 2027", (2026, 2027), Months(((2026, 9), (2027, 3), (2027, 6)))),
    (
        "Сентябрь 2026,\n март,\n\n июнь 2027",
        (2026, 2027),
        Months(((2026, 9), (2027, 3), (2027, 6))),
    ),
    ("октябрь и апрель", (2026, 2027), Months(((2026, 10), (2027, 4)))),
    ("сентябрь-октябрь, март", (2026, 2027), Months(((2026, 9), (2026, 10), (2027, 3)))),
    # quarters
    ("2 квартал 2022", (2021, 2022), _range("2022-04-01", "2022-06-30")),
    ("2 квартал 2027", (2026, 2027), _range("2027-04-01", "2027-06-30")),
    ("I квартал 2027", (2026, 2027), _range("2027-01-01", "2027-03-31")),
    ("IV квартал 2026", (2026, 2027), _range("2026-10-01", "2026-12-31")),
    ("III квартал 2027", (2026, 2027), _range("2027-07-01", "2027-09-30")),
    ("1-й квартал 2027 г.", (2026, 2027), _range("2027-01-01", "2027-03-31")),
    ("во 2 квартале 2027 года", (2026, 2027), _range("2027-04-01", "2027-06-30")),
    ("IV квартал", (2026, 2027), _range("2026-10-01", "2026-12-31")),
    ("II квартал", (2026, 2027), _range("2027-04-01", "2027-06-30")),
    ("I–II квартал 2027", (2026, 2027), _range("2027-01-01", "2027-06-30")),
    ("\u0406 квартал 2027", (2026, 2027), _range("2027-01-01", "2027-03-31")),  # Cyrillic І
    # half-years
    (
        "II полугодие 2026/2027 учебного года",
        (2026, 2027),
        _range("2027-01-01", "2027-06-30"),
    ),
    ("I полугодие 2026-2027 уч. г.", (2021, 2022), _range("2026-09-01", "2026-12-31")),
    ("II полугодие", (2021, 2022), _range("2022-01-01", "2022-06-30")),
    ("I полугодие", (2026, 2027), _range("2026-09-01", "2026-12-31")),
    ("во втором полугодии", (2026, 2027), _range("2027-01-01", "2027-06-30")),
    ("II полугодие 2027 года", (2026, 2027), _range("2027-07-01", "2027-12-31")),
    # exact dates and months
    ("20.12.2026", (2026, 2027), _range("2026-12-20", "2026-12-20")),
    ("20.12.2021", (2021, 2022), _range("2021-12-20", "2021-12-20")),
    ("15.03", (2026, 2027), _range("2027-03-15", "2027-03-15")),
    ("20-21.12.2026", (2026, 2027), _range("2026-12-20", "2026-12-21")),
    ("15 марта 2027 г.", (2026, 2027), _range("2027-03-15", "2027-03-15")),
    ("с 1 по 15 марта", (2026, 2027), _range("2027-03-01", "2027-03-15")),
    ("Март 2027", (2026, 2027), _range("2027-03-01", "2027-03-31")),
    ("Март 2022", (2021, 2022), _range("2022-03-01", "2022-03-31")),
    ("в марте", (2026, 2027), _range("2027-03-01", "2027-03-31")),
    ("Ноябрь", (2026, 2027), _range("2026-11-01", "2026-11-30")),
    ("Февраль 2028", (2027, 2028), _range("2028-02-01", "2028-02-29")),
    ("Октябрь 2026 (по согласованию)", (2026, 2027), _range("2026-10-01", "2026-10-31")),
    # recurring
    ("Два раза в год", (2021, 2022), _recurring(Every.YEAR, 2, 2021)),
    ("Два раза в год", (2026, 2027), _recurring(Every.YEAR, 2, 2026)),
    ("дважды в год", (2026, 2027), _recurring(Every.YEAR, 2, 2026)),
    ("3 раза в учебный год", (2026, 2027), _recurring(Every.YEAR, 3, 2026)),
    ("1 раз в полугодие", (2021, 2022), _recurring(Every.HALF_YEAR, 1, 2021)),
    ("1 раз в полугодие", (2026, 2027), _recurring(Every.HALF_YEAR, 1, 2026)),
    ("раз в полугодие", (2026, 2027), _recurring(Every.HALF_YEAR, 1, 2026)),
    ("Ежемесячно", (2026, 2027), _recurring(Every.MONTH, 1, 2026)),
    ("1 раз в месяц", (2026, 2027), _recurring(Every.MONTH, 1, 2026)),
    ("2 раза в месяц", (2026, 2027), _recurring(Every.MONTH, 2, 2026)),
    ("Ежеквартально", (2026, 2027), _recurring(Every.QUARTER, 1, 2026)),
    ("ежегодно", (2026, 2027), _recurring(Every.YEAR, 1, 2026)),
    ("Ежемесячно в течение года", (2026, 2027), _recurring(Every.MONTH, 1, 2026)),
    ("ежемесячно (последняя пятница)", (2026, 2027), _recurring(Every.MONTH, 1, 2026)),
    # named months are more useful than the count
    ("2 раза в год (октябрь, апрель)", (2021, 2022), Months(((2021, 10), (2022, 4)))),
    ("2 раза в год (октябрь, апрель)", (2026, 2027), Months(((2026, 10), (2027, 4)))),
    ("2 раза в год: октябрь,\nапрель", (2026, 2027), Months(((2026, 10), (2027, 4)))),
    ("1 раз в год (март)", (2026, 2027), Months(((2027, 3),))),
    # undated: ongoing, by someone else's plan
    ("По плану редакционно-издательского совета", (2021, 2022), Undated()),
    ("По плану редакционно-\nиздательского совета", (2026, 2027), Undated()),
    ("По планам площадок", (2026, 2027), Undated()),
    ("по графику ИМЦ", (2026, 2027), Undated()),
    ("По согласованию", (2026, 2027), Undated()),
    ("по мере необходимости", (2026, 2027), Undated()),
]


@pytest.mark.parametrize(
    ("text", "school_year", "expected"), TIMINGS, ids=[repr(t[0]) for t in TIMINGS]
)
def test_timing_phrases(text: str, school_year: tuple[int, int], expected: When) -> None:
    assert resolve_timing(text, school_year) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "2022",  # a bare year: could be the end of a title («Школа 2030»)
        "Ежедневно",  # «Еженедельно» is read since issue #11; daily is not a plan's rhythm
        "31.04.2027",
        "29.02",  # 2027 is no leap year
        "Когда получится",
        "V квартал 2027",
        "III полугодие",
        "сентябрь 2027 - март 2026",
    ],
)
def test_phrases_that_do_not_resolve(text: str) -> None:
    assert resolve_timing(text, (2026, 2027)) is None


def test_the_plan_may_name_its_own_school_days() -> None:
    days = (date(2026, 8, 25), date(2027, 7, 31))
    assert resolve_timing("В течение года", (2026, 2027), period=days) == DateRange(*days)
    assert resolve_timing("Август", (2026, 2027), period=days) == _range(
        "2026-08-01", "2026-08-31"
    )
    assert resolve_timing("Ежемесячно", (2026, 2027), period=days) == Recurring(
        Every.MONTH, 1, *days
    )


def test_when_json() -> None:
    assert _range("2026-12-20", "2026-12-20").to_json() == {
        "kind": "range",
        "start": "2026-12-20",
        "end": "2026-12-20",
    }
    assert Months(((2026, 10), (2027, 4))).to_json() == {
        "kind": "months",
        "months": ["2026-10", "2027-04"],
    }
    assert _recurring(Every.HALF_YEAR, 1, 2026).to_json() == {
        "kind": "recurring",
        "every": "half-year",
        "times": 1,
        "start": "2026-09-01",
        "end": "2027-06-30",
    }
    assert Undated().to_json() == {"kind": "undated"}


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("План мероприятий … на 2021-2022 учебный год", (2021, 2022)),
        ("План на 2026/2027 учебный год", (2026, 2027)),
        ("План на 2026 – 2027 уч. год", (2026, 2027)),
        ("План на 2026–27 учебный год", (2026, 2027)),
        ("План работы ИМЦ", None),
        ("План на 2026 год", None),
        ("Утверждён 30.08.2026, план на 2026-2028 годы", None),
    ],
)
def test_school_year_from_title(title: str, expected: tuple[int, int] | None) -> None:
    assert school_year_from_title(title) == expected


# --- audience codes ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "roles", "orgs"),
    [
        ("Руководители ОУ", {Role.HEAD}, {OrgKind.SCHOOL}),
        ("координаторы инновационной деятельности", {Role.COORDINATOR}, set()),
        ("Заместители руководителей", {Role.COORDINATOR}, set()),
        ("Педагоги школ", {Role.TEACHER}, {OrgKind.SCHOOL}),
        ("учителя", {Role.TEACHER}, set()),
        ("Воспитатели ДОО", {Role.PRESCHOOL}, {OrgKind.KINDERGARTEN}),
        ("педагоги детских садов", {Role.TEACHER}, {OrgKind.KINDERGARTEN}),
        ("Методисты", {Role.METHODIST}, set()),
        ("ИМЦ", {Role.METHODIST}, set()),
        ("Педагоги ДОУ", {Role.TEACHER}, {OrgKind.KINDERGARTEN}),  # «ДОУ» is not «ОУ»
        ("педагоги дополнительного образования", {Role.TEACHER}, {OrgKind.EXTRA}),
        ("Все желающие", set(), set()),
    ],
)
def test_audience_codes(text: str, roles: set[Role], orgs: set[OrgKind]) -> None:
    assert audience_codes(text) == (frozenset(roles), frozenset(orgs))


# --- another year, another layout's junk ---------------------------------------------------------

PLAN_2026 = """\
УТВЕРЖДАЮ
Директор ИМЦ
30.08.2026

План работы по сопровождению инновационной деятельности
образовательных учреждений района на 2026/2027 учебный год

№
п/п
Наименование мероприятия
Сроки проведения
Целевая аудитория
Ожидаемый результат
1 2 3 4 5

1. Экспертиза и сопровождение.

1
Заседание районного Экспертного
совета
I квартал 2027
Руководители ОУ,
координаторы
Решения совета
2 Августовская конференция Август 2026 Руководители ОУ и ДОО
Стратегия на год
3
Семинар-практикум «Цифровая
школа 2030»
20.12.2026
Заместители
руководителей, методисты
Методические
рекомендации

- 2 -

№ п/п Наименование мероприятия Сроки проведения Целевая аудитория Ожидаемый результат

4
Мастер-классы площадок
Сентябрь 2026 —
июнь
2027
Педагоги школ
и детских садов
Распространение опыта
2. Повышение квалификации педагогов
\u00a0
и воспитателей.
5
Вебинары для воспитателей ДОО
Ежемесячно
Воспитатели ДОО
Рост компетентности
6
Методические совещания
2 раза в год (октябрь,
апрель)
Методисты ИМЦ
Координация
7
Открытые уроки
Ежедневно
Учителя ОУ
Обмен опытом
8
Итоговая конференция
II полугодие 2026/2027 учебного года
педагоги ОУ
Сборник материалов
Страница 3 из 3
"""


def test_a_plan_for_another_year_takes_its_years_from_the_title() -> None:
    plan = parse_plan(PLAN_2026)
    assert plan.title == (
        "План работы по сопровождению инновационной деятельности образовательных учреждений "
        "района на 2026/2027 учебный год"
    )
    assert plan.school_year == (2026, 2027)
    got = [(i.number, i.section_number, i.title, i.timing, i.audience, i.when) for i in plan.items]
    assert got == [
        (
            1,
            1,
            "Заседание районного Экспертного совета",
            "I квартал 2027",
            "Руководители ОУ, координаторы",
            _range("2027-01-01", "2027-03-31"),
        ),
        (
            2,
            1,
            "Августовская конференция",
            "Август 2026",
            "Руководители ОУ и ДОО",
            _range("2026-08-01", "2026-08-31"),
        ),
        (
            3,
            1,
            "Семинар-практикум «Цифровая школа 2030»",
            "20.12.2026",
            "Заместители руководителей, методисты",
            _range("2026-12-20", "2026-12-20"),
        ),
        (
            4,
            1,
            "Мастер-классы площадок",
            "Сентябрь 2026 — июнь 2027",
            "Педагоги школ и детских садов",
            _range("2026-09-01", "2027-06-30"),
        ),
        (
            5,
            2,
            "Вебинары для воспитателей ДОО",
            "Ежемесячно",
            "Воспитатели ДОО",
            _recurring(Every.MONTH, 1, 2026),
        ),
        (
            6,
            2,
            "Методические совещания",
            "2 раза в год (октябрь, апрель)",
            "Методисты ИМЦ",
            Months(((2026, 10), (2027, 4))),
        ),
        (7, 2, "Открытые уроки", "Ежедневно", "Учителя ОУ", Undated()),
        (
            8,
            2,
            "Итоговая конференция",
            "II полугодие 2026/2027 учебного года",
            "педагоги ОУ",
            _range("2027-01-01", "2027-06-30"),
        ),
    ]
    assert [i.section_title for i in plan.items][3:5] == [
        "Экспертиза и сопровождение",
        "Повышение квалификации педагогов и воспитателей",
    ]
    assert [i.result for i in plan.items][2:4] == [
        "Методические рекомендации",
        "Распространение опыта",
    ]
    assert plan.items[-1].result == "Сборник материалов"  # the page footer is dropped
    assert plan.items[0].key == "plan:2026-2027:1"


def test_an_unknown_timing_is_listed_and_reported() -> None:
    plan = parse_plan(PLAN_2026)
    [entry] = plan.unresolved
    assert (entry.number, entry.title, entry.timing) == (7, "Открытые уроки", "Ежедневно")
    assert entry.reason is UnresolvedReason.UNKNOWN_TIMING
    assert plan.to_json()["unresolved"] == [
        {
            "number": 7,
            "label": "7",
            "title": "Открытые уроки",
            "timing": "Ежедневно",
            "reason": "unknown_timing",
            "detail": entry.detail,
        }
    ]
    assert plan.items[6].when == Undated()


def test_a_row_without_any_timing_is_kept_whole() -> None:
    text = "План на 2026-2027 учебный год\n1. Раздел\n1\nСеминар без срока\nи без аудитории\n"
    plan = parse_plan(text)
    [item] = plan.items
    assert (item.title, item.timing, item.audience) == (
        "Семинар без срока и без аудитории",
        "",
        "",
    )
    assert plan.unresolved[0].reason is UnresolvedReason.NO_TIMING


ROWS = "План на 2026-2027 учебный год\n1. Раздел\n"


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (  # cells separated by tabs, as Word saves a table as text
            "1\tСеминар для педагогов\tВ течение года\tРуководители ОУ\tИтог семинара\n",
            ("Семинар для педагогов", "В течение года", "Руководители ОУ", "Итог семинара"),
        ),
        (  # an audience in lower case
            "1\nСеминар\nВ течение года\nпедагоги ОУ\nИтог\n",
            ("Семинар", "В течение года", "педагоги ОУ", "Итог"),
        ),
        (  # an undated timing wrapped before a word in lower case
            "1\nСеминар\nПо планам\nплощадок\nПедагоги\nИтог\n",
            ("Семинар", "По планам площадок", "Педагоги", "Итог"),
        ),
        (  # a remark on the next line stays with the timing
            "1\nСеминар\nОктябрь 2026\n(по согласованию)\nПедагоги\nИтог\n",
            ("Семинар", "Октябрь 2026 (по согласованию)", "Педагоги", "Итог"),
        ),
        (  # a second audience line starting with people, not a result
            "1\nСеминар\nДекабрь\nРуководители ОУ\nПедагоги ДОО\nИтог работы\n",
            ("Семинар", "Декабрь", "Руководители ОУ Педагоги ДОО", "Итог работы"),
        ),
        (  # a year inside the title is not the timing
            "1\nСеминар по теме\n«Весна 2027»\nАпрель\nПедагоги\nИтог\n",
            ("Семинар по теме «Весна 2027»", "Апрель", "Педагоги", "Итог"),
        ),
        (  # an unknown timing is still told apart, by the audience after it
            "1\nСеминар\nМай–сентябрь 2027 по согласованию\nМетодисты\nИтог\n",
            ("Семинар", "Май–сентябрь 2027 по согласованию", "Методисты", "Итог"),
        ),
    ],
    ids=[
        "tabs",
        "lower-case-audience",
        "wrapped-undated",
        "remark",
        "two-audiences",
        "title-year",
        "unknown",
    ],
)
def test_rows_are_cut_into_cells(rows: str, expected: tuple[str, str, str, str]) -> None:
    [item] = parse_plan(ROWS + rows).items
    assert (item.title, item.timing, item.audience, item.result) == expected


def test_the_title_may_name_the_school_days() -> None:
    text = (
        "План на 2026-2027 учебный год (с 01.08.2026 по 31.07.2027)\n"
        "1\nЛетняя школа\nИюль\nПедагоги\nОтчёт\n"
        "2\nСовет\nВ течение года\nРуководители\nРешения\n"
    )
    plan = parse_plan(text)
    assert plan.period == (date(2026, 8, 1), date(2027, 7, 31))
    assert plan.items[0].when == _range("2027-07-01", "2027-07-31")
    assert plan.items[1].when == _range("2026-08-01", "2027-07-31")


def test_the_school_year_can_be_given_when_the_title_has_none() -> None:
    text = "План работы ИМЦ\n1\nСовет\nВ течение года\nРуководители\nРешения\n"
    with pytest.raises(PlanFormatError) as error:
        parse_plan(text)
    assert error.value.problem is PlanProblem.NO_SCHOOL_YEAR
    plan = parse_plan(text, school_year=(2026, 2027))
    assert plan.items[0].when == _range("2026-09-01", "2027-06-30")
    assert plan.items[0].key == "plan:2026-2027:1"


def test_a_text_without_items_is_refused() -> None:
    with pytest.raises(PlanFormatError) as error:
        parse_plan("План на 2026-2027 учебный год\nничего\n")
    assert error.value.problem is PlanProblem.NO_ITEMS


def test_plan_item_json_round_trip() -> None:
    item = PlanItem(
        number=1,
        section_number=0,
        section_title="",
        title="Совет",
        timing="Март 2027",
        audience="Руководители",
        result="Решения",
        when=_range("2027-03-01", "2027-03-31"),
        school_year=(2026, 2027),
    )
    assert item.to_json()["when"] == {"kind": "range", "start": "2027-03-01", "end": "2027-03-31"}
    assert item.key == "plan:2026-2027:1"


# --- decoding uploads ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "encode",
    [
        lambda text: text.encode("utf-8"),
        lambda text: codecs.BOM_UTF8 + text.encode("utf-8"),
        lambda text: text.encode("cp1251"),
        lambda text: text.encode("utf-16"),  # with a BOM, as Word saves «Unicode»
        lambda text: codecs.BOM_UTF16_BE + text.encode("utf-16-be"),
        lambda text: text.encode("utf-16-le"),  # no BOM
        lambda text: text.encode("utf-16-be"),
        lambda text: text.replace("\n", "\r\n").encode("cp1251"),
    ],
    ids=[
        "utf-8",
        "utf-8-bom",
        "cp1251",
        "utf-16",
        "utf-16-be-bom",
        "utf-16-le",
        "utf-16-be",
        "crlf",
    ],
)
def test_any_encoding_gives_the_same_plan(encode: Callable[[str], bytes], plan: PlanParse) -> None:
    text = FIXTURE.read_text(encoding="utf-8")
    assert parse_plan(decode_plan(encode(text))) == plan


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"PK\x03\x04\x14\x00\x06\x00", PlanProblem.DOCX),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", PlanProblem.DOC),
        (b"%PDF-1.7\n", PlanProblem.PDF),
    ],
)
def test_documents_are_refused_with_a_reason(data: bytes, problem: PlanProblem) -> None:
    with pytest.raises(PlanFormatError) as error:
        decode_plan(data)
    assert error.value.problem is problem


# --- long input: the work grows with the length -------------------------------------------------


class _Counted:
    """The `re` module as plan.py calls it, adding up the length of every string it scans."""

    def __init__(self) -> None:
        self.scanned = 0

    def __getattr__(self, name: str) -> Any:
        function = getattr(re, name)
        if name not in {"search", "match", "fullmatch", "sub", "split", "findall", "finditer"}:
            return function

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.scanned += sum(len(a) for a in args[1:] if isinstance(a, str))
            return function(*args, **kwargs)

        return counted


def _work(monkeypatch: pytest.MonkeyPatch, filler_lines: int) -> tuple[int, int]:
    """Characters scanned by module-level regexes and handed to the timing resolver while
    reading the real plan plus a 14th row that never resolves, `filler_lines` long."""
    counted = _Counted()
    handed = 0
    resolve = plan_module.resolve_timing

    def counting_resolve(text: str, *args: Any, **kwargs: Any) -> When | None:
        nonlocal handed
        handed += len(text)
        return resolve(text, *args, **kwargs)

    monkeypatch.setattr(plan_module, "re", counted)
    monkeypatch.setattr(plan_module, "resolve_timing", counting_resolve)
    # Lines that go on one cell (lower case first) with a word a timing could open with.
    filler = "\n".join("и В рамках проекта сентябрьский отчёт" for _ in range(filler_lines))
    text = FIXTURE.read_text(encoding="utf-8") + "\n14 Дополнительная строка\n" + filler
    parsed = parse_plan(text)
    monkeypatch.undo()
    assert [item.number for item in parsed.items] == list(range(1, 15))
    return counted.scanned, handed


def test_reading_a_long_row_costs_in_proportion_to_its_length(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Not a timing: the characters scanned, which a quadratic reader multiplies by four when
    # the row doubles (each line re-reading the rest of the row, or all of it before it).
    base_scanned, base_handed = _work(monkeypatch, 0)
    scanned_1, handed_1 = _work(monkeypatch, 500)
    scanned_2, handed_2 = _work(monkeypatch, 1000)
    assert scanned_2 - base_scanned <= 2.2 * (scanned_1 - base_scanned)
    assert handed_2 - base_handed <= 2.2 * (handed_1 - base_handed) + 1000


def test_a_long_real_plan_reads_as_the_plan_itself(plan: PlanParse) -> None:
    # Thirty copies pile into the last row; the first twelve rows are the plan's own.
    longer = parse_plan(FIXTURE.read_text(encoding="utf-8") * 30)
    assert [item.number for item in longer.items] == list(range(1, 14))
    assert longer.items[:12] == plan.items[:12]
    assert longer.items[12].title == plan.items[12].title
    assert longer.items[12].when == plan.items[12].when
