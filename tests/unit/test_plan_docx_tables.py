"""The .docx reader gives the plan's tables as rows of cells, as Word shows them: automatic list
numbers, merged heading rows, vertically merged cells, several tables, the title above."""

from __future__ import annotations

import io
import zipfile
from datetime import date

import pytest
from docx import Document

from bot.content.plan import DateRange, PlanFormatError, PlanProblem, parse_plan
from bot.content.plan_docx import (
    UNZIPPED_MAX,
    DocxDocument,
    DocxRow,
    DocxTable,
    plan_text,
    read_docx,
)
from tests.support.word import PLAN_HEADER as HEADER
from tests.support.word import PLAN_TITLE as TITLE
from tests.support.word import (
    add_list,
    number,
    numbered_style,
    table,
    to_bytes,
    word_numbered_plan,
)


def texts(document: DocxDocument, index: int = 0) -> list[tuple[str, ...]]:
    return [row.cells for row in document.tables[index].rows]


def numbers(document: DocxDocument, index: int = 0) -> list[str | None]:
    return [row.number for row in document.tables[index].rows]


def test_automatic_decimal_numbers_in_the_first_column_are_the_row_numbers() -> None:
    document = Document()
    num_id, _ = add_list(document)
    events = [("", "Семинар", "Сентябрь", "Иванова И.И."),
              ("", "Конкурс", "Октябрь", "Петрова А.А."),
              ("", "Совещание", "Ноябрь", "Сидоров П.П.")]  # fmt: skip
    word = table(document, HEADER, events)
    for row in word.rows[1:]:
        number(row.cells[0].paragraphs[0], num_id)
    read = read_docx(to_bytes(document))
    assert texts(read) == [
        HEADER,
        ("1.", "Семинар", "Сентябрь", "Иванова И.И."),
        ("2.", "Конкурс", "Октябрь", "Петрова А.А."),
        ("3.", "Совещание", "Ноябрь", "Сидоров П.П."),
    ]
    assert numbers(read) == [None, "1", "2", "3"]


def test_a_number_typed_as_text_stays_as_it_is_and_is_not_an_automatic_number() -> None:
    document = Document()
    table(document, HEADER, [("7", "Семинар", "Май", "Иванова И.И.")])
    read = read_docx(to_bytes(document))
    assert read.tables[0].rows[1] == DocxRow(
        ("7", "Семинар", "Май", "Иванова И.И."), None, False, (0, 1, 2, 3)
    )


def test_a_two_level_list_counts_per_level_and_restarts_the_deeper_one() -> None:
    document = Document()
    num_id, _ = add_list(document, [("decimal", "%1."), ("decimal", "%1.%2.")])
    rows = [("", "Организационная работа", "", ""), ("", "Совет", "Август", "Директор"),
            ("", "Педсовет", "Ноябрь", "Завуч"), ("", "Методическая работа", "", ""),
            ("", "Семинар", "Март", "Методист")]  # fmt: skip
    word = table(document, HEADER, rows)
    for row, level in zip(word.rows[1:], (0, 1, 1, 0, 1), strict=True):
        number(row.cells[0].paragraphs[0], num_id, level)
    read = read_docx(to_bytes(document))
    assert texts(read)[1:] == [
        ("1.", "Организационная работа", "", ""),
        ("1.1.", "Совет", "Август", "Директор"),
        ("1.2.", "Педсовет", "Ноябрь", "Завуч"),
        ("2.", "Методическая работа", "", ""),
        ("2.1.", "Семинар", "Март", "Методист"),
    ]
    assert numbers(read) == [None, "1", "1.1", "1.2", "2", "2.1"]


def test_start_and_start_override_and_a_second_instance_of_the_same_list() -> None:
    document = Document()
    first, abstract = add_list(document, [("decimal", "%1")], start=3)
    again, _ = add_list(document, abstract_id=abstract)  # the same list, continued
    restart, _ = add_list(document, abstract_id=abstract, start_overrides={0: 10})
    for num_id in (first, first, again, restart, restart):
        number(document.add_paragraph("Пункт"), num_id)
    assert read_docx(to_bytes(document)).paragraphs == (
        "3 Пункт", "4 Пункт", "5 Пункт", "10 Пункт", "11 Пункт",
    )  # fmt: skip


def test_numbering_through_the_paragraph_style_and_other_formats() -> None:
    document = Document()
    num_id, _ = add_list(document, [("upperRoman", "%1."), ("russianLower", "%2)")])
    style = numbered_style(document, "Plan Item", num_id)
    document.add_paragraph("Раздел", style=style)
    number(document.add_paragraph("пункт", style=style), num_id, 1)  # own ilvl over the style's
    number(document.add_paragraph("пункт", style=style), num_id, 1)
    document.add_paragraph("Раздел", style=style)
    bullets, _ = add_list(document, [("bullet", "\u2022")])
    number(document.add_paragraph("без номера"), bullets)
    assert read_docx(to_bytes(document)).paragraphs == (
        "I. Раздел", "а) пункт", "б) пункт", "II. Раздел", "без номера",
    )  # fmt: skip


def test_a_row_merged_across_the_whole_table_is_a_heading() -> None:
    document = Document()
    word = table(document, HEADER, [("1", "Семинар", "Май", "Иванова И.И."),
                                    ("2", "Совет", "Июнь", "Петрова А.А.")])  # fmt: skip
    heading = word.rows[1]._tr.addprevious  # a heading row above the first item
    section = word.add_row().cells  # type: ignore[no-untyped-call]
    section[0].merge(section[3]).text = "Организационная работа"
    heading(section[0]._tc.getparent())
    partial = word.add_row().cells  # type: ignore[no-untyped-call]
    partial[0].merge(partial[1]).text = "Итого"
    partial[2].text = "2"
    rows = read_docx(to_bytes(document)).tables[0].rows
    assert rows[1] == DocxRow(("Организационная работа",), None, True, (0,))
    assert rows[2].cells == ("1", "Семинар", "Май", "Иванова И.И.") and not rows[2].heading
    assert rows[4] == DocxRow(("Итого", "2", ""), None, False, (0, 2, 3))


def test_a_vertically_merged_timing_cell_applies_to_each_row_it_covers() -> None:
    document = Document()
    rows = [("1", "Семинар", "", "Иванова И.И."), ("2", "Конкурс", "", "Петрова А.А."),
            ("3", "Совещание", "", "Сидоров П.П."),
            ("4", "Отчёт", "Май", "Иванова И.И.")]  # fmt: skip
    word = table(document, HEADER, rows)
    word.cell(1, 2).merge(word.cell(3, 2)).text = "Сентябрь – октябрь"
    read = read_docx(to_bytes(document)).tables[0].rows
    assert [row.cells for row in read[1:]] == [
        ("1", "Семинар", "Сентябрь – октябрь", "Иванова И.И."),
        ("2", "Конкурс", "Сентябрь – октябрь", "Петрова А.А."),
        ("3", "Совещание", "Сентябрь – октябрь", "Сидоров П.П."),
        ("4", "Отчёт", "Май", "Иванова И.И."),
    ]
    assert [row.continued for row in read[1:]] == [set(), {2}, {2}, set()]


def test_a_timing_column_may_come_first() -> None:
    document = Document()
    table(document, ("Месяц", "Мероприятие", "Ответственный"),
          [("Сентябрь", "Педсовет", "Директор"), ("Октябрь", "Семинар", "Методист")])  # fmt: skip
    assert texts(read_docx(to_bytes(document))) == [
        ("Месяц", "Мероприятие", "Ответственный"),
        ("Сентябрь", "Педсовет", "Директор"),
        ("Октябрь", "Семинар", "Методист"),
    ]


def test_two_tables_under_a_title_and_the_numbering_runs_on_through_both() -> None:
    document = Document()
    num_id, _ = add_list(document)
    document.add_paragraph(TITLE)
    document.add_paragraph("")
    first = table(document, HEADER, [("", "Семинар", "Сентябрь", "Методист")])
    document.add_paragraph("Работа с кадрами")
    second = table(document, HEADER, [("", "Аттестация", "Октябрь", "Завуч"),
                                      ("", "Курсы", "Ноябрь", "Завуч")])  # fmt: skip
    for row in [*first.rows[1:], *second.rows[1:]]:
        number(row.cells[0].paragraphs[0], num_id)
    read = read_docx(to_bytes(document))
    assert read.paragraphs == (TITLE, "Работа с кадрами")
    assert [t.before for t in read.tables] == [(TITLE,), ("Работа с кадрами",)]
    assert texts(read, 0) == [HEADER, ("1.", "Семинар", "Сентябрь", "Методист")]
    assert texts(read, 1) == [
        HEADER, ("2.", "Аттестация", "Октябрь", "Завуч"), ("3.", "Курсы", "Ноябрь", "Завуч"),
    ]  # fmt: skip
    assert isinstance(read.blocks[1], DocxTable) and read.blocks[2] == "Работа с кадрами"


def test_a_cells_paragraphs_are_joined_with_a_space() -> None:
    document = Document()
    word = table(document, HEADER, [("1", "Семинар", "Март", "Иванова И.И.,")])
    title = word.cell(1, 1)
    title.add_paragraph("«Инфозона:   новые   возможности»")
    title.add_paragraph("")
    word.cell(1, 3).add_paragraph("Петрова А.А.")
    assert texts(read_docx(to_bytes(document)))[1] == (
        "1", "Семинар «Инфозона: новые возможности»", "Март", "Иванова И.И., Петрова А.А.",
    )  # fmt: skip


def test_a_nested_table_adds_its_text_to_its_cell() -> None:
    document = Document()
    word = table(document, HEADER, [("1", "Семинар", "Март", "")])
    inner = word.cell(1, 3).add_table(rows=1, cols=2)
    inner.cell(0, 0).text, inner.cell(0, 1).text = "Иванова И.И.", "Петрова А.А."
    assert texts(read_docx(to_bytes(document)))[1] == (
        "1", "Семинар", "Март", "Иванова И.И. Петрова А.А.",
    )  # fmt: skip


def test_what_is_not_a_word_document_is_refused() -> None:
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"\0" * (UNZIPPED_MAX + 1))
    for data in (b"plain text", b"PK\x03\x04broken", bomb.getvalue()):
        with pytest.raises(PlanFormatError) as error:
            read_docx(data)
        assert error.value.problem is PlanProblem.BROKEN_DOCX


def test_a_word_numbered_table_imports_through_todays_parser() -> None:
    plan = parse_plan(plan_text(word_numbered_plan()))
    assert plan.school_year == (2024, 2025)
    assert [(i.number, i.section_number, i.title, i.timing) for i in plan.items] == [
        (1, 1, "Семинар для заместителей директоров", "Сентябрь 2024"),
        (2, 1, "Конкурс «Учитель года»", "Январь-февраль 2025"),
        (3, 1, "Совещание руководителей", "Январь-февраль 2025"),
        (4, 1, "Отчёт о работе за год", "Май 2025"),
    ]
    assert plan.items[0].section_title == "Организационная работа"
    assert (
        plan.items[1].when == plan.items[2].when == DateRange(date(2025, 1, 1), date(2025, 2, 28))
    )
    assert plan.items[3].when == DateRange(date(2025, 5, 1), date(2025, 5, 31))
    assert plan.items[0].when == DateRange(date(2024, 9, 1), date(2024, 9, 30))
    assert plan.unresolved == ()
