"""A plan table's columns are found by what their headers say, in any order."""

from __future__ import annotations

import pytest

from bot.content.plan_columns import Field, column_fields, header_field


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("№", Field.NUMBER),
        ("№ п/п", Field.NUMBER),
        ("п/п", Field.NUMBER),
        ("Наименование мероприятия", Field.TITLE),
        ("Мероприятие", Field.TITLE),
        ("Мероприятия", Field.TITLE),
        ("Содержание работы", Field.TITLE),
        ("Содержание деятельности", Field.TITLE),
        ("Тема", Field.TITLE),
        ("Сроки", Field.TIMING),
        ("Сроки проведения", Field.TIMING),
        ("Срок исполнения", Field.TIMING),
        ("Дата", Field.TIMING),
        ("Дата проведения", Field.TIMING),
        ("Месяц", Field.TIMING),
        ("Сроки (месяц)", Field.TIMING),
        ("Целевая аудитория", Field.AUDIENCE),
        ("Участники", Field.AUDIENCE),
        ("Категория участников", Field.AUDIENCE),
        ("Ответственный(-ые)", Field.RESPONSIBLE),
        ("Ответственные", Field.RESPONSIBLE),
        ("Исполнители", Field.RESPONSIBLE),
        ("Ожидаемый результат", Field.RESULT),
        ("Форма проведения", Field.FORM),
        ("Место проведения", Field.PLACE),
        ("Отметка о выполнении", Field.MARK),
        ("  СРОКИ  ПРОВЕДЕНИЯ ", Field.TIMING),
    ],
)
def test_a_header_names_its_field(header: str, field: Field) -> None:
    assert header_field(header) is field


@pytest.mark.parametrize(
    "cell",
    [
        "",
        "1",
        "Сентябрь 2024",  # a timing value, not the «Сроки» header
        "Заседание экспертного совета по вопросам инновационной деятельности района",
        "Педагоги ОУ",
    ],
)
def test_a_value_is_no_header(cell: str) -> None:
    assert header_field(cell) is None


def test_columns_in_any_order_timing_first() -> None:
    assert column_fields(["Месяц", "Мероприятие", "Ответственный"]) == {
        Field.TIMING: 0,
        Field.TITLE: 1,
        Field.RESPONSIBLE: 2,
    }


def test_the_full_header_of_a_school_plan() -> None:
    header = [
        "№ п/п",
        "Содержание работы",
        "Сроки проведения",
        "Целевая аудитория",
        "Ответственный(-ые)",
        "Ожидаемый результат",
        "Отметка о выполнении",
    ]
    assert column_fields(header) == {
        Field.NUMBER: 0,
        Field.TITLE: 1,
        Field.TIMING: 2,
        Field.AUDIENCE: 3,
        Field.RESPONSIBLE: 4,
        Field.RESULT: 5,
        Field.MARK: 6,
    }


@pytest.mark.parametrize(
    "row",
    [
        ["1", "Семинар для координаторов", "Сентябрь 2024", "Методист ИМЦ"],
        ["№", "Ответственный", "Участники"],  # no title, no timing
        ["Мероприятие", "Ответственный"],  # nothing says when
    ],
)
def test_a_row_that_does_not_name_a_title_and_a_timing_is_no_header(row: list[str]) -> None:
    assert column_fields(row) is None
