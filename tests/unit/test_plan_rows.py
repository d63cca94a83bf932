"""Word plans read as tables: each row by the columns its header names, in any order, numbered
by Word or by hand or not at all, with heading rows, merged cells and several tables."""

from __future__ import annotations

import json
from datetime import date

from docx import Document
from docx.document import Document as WordDocument

from bot.content.plan import (
    DateRange,
    Every,
    Months,
    PlanParse,
    Recurring,
    Undated,
    UnresolvedReason,
    When,
    parse_plan_rows,
)
from bot.content.plan_docx import parse_plan_file, plan_rows, read_docx
from tests.support.word import PLAN_TITLE, add_list, number, table, to_bytes

SY = (2024, 2025)


def _range(start: str, end: str) -> DateRange:
    return DateRange(date.fromisoformat(start), date.fromisoformat(end))


def _month(month: str) -> DateRange:
    year, number_ = (int(part) for part in month.split("-"))
    end = {2: 28, 4: 30, 6: 30, 9: 30, 11: 30}.get(number_, 31)
    return _range(f"{month}-01", f"{year:04d}-{number_:02d}-{end}")


Row = tuple[int, str, int, str, str, str, When, str, str]


def rows(plan: PlanParse) -> list[Row]:
    """(number, label, section, section title, title, timing, when, audience, responsible)."""
    return [
        (i.number, i.label, i.section_number, i.section_title, i.title, i.timing, i.when,
         i.audience, i.responsible)
        for i in plan.items
    ]  # fmt: skip


def merged_heading(word: object, text: str, before: int | None = None) -> None:
    """A row merged across the whole table; moved above row `before` when given."""
    row = word.add_row()  # type: ignore[attr-defined]
    cells = row.cells
    cells[0].merge(cells[-1]).text = text
    if before is not None:
        word.rows[before]._tr.addprevious(row._tr)  # type: ignore[attr-defined]


def titled(title: str = PLAN_TITLE) -> WordDocument:
    document = Document()
    document.add_paragraph("УТВЕРЖДАЮ")
    document.add_paragraph("Директор ИМЦ ____ И.И. Иванова")
    document.add_paragraph(title)
    return document


def test_two_level_automatic_numbering_makes_sections_of_the_first_level() -> None:
    document = titled()
    num_id, _ = add_list(document, [("decimal", "%1."), ("decimal", "%1.%2.")])
    word = table(document, ("№ п/п", "Содержание работы", "Сроки", "Ответственный(-ые)"), [
        ("", "Организационная работа", "", ""),
        ("", "Педагогический совет", "Август 2024", "Директор"),
        ("", "Совещание при директоре", "Ежемесячно", "Заместитель директора"),
        ("", "Методическая работа", "", ""),
        ("", "Семинар «Функциональная грамотность»", "Ноябрь", "Методист Петрова А.А."),
    ])  # fmt: skip
    for row, level in zip(word.rows[1:], (0, 1, 1, 0, 1), strict=True):
        number(row.cells[0].paragraphs[0], num_id, level)
    plan = parse_plan_file(to_bytes(document))
    assert plan.title == PLAN_TITLE and plan.school_year == SY
    monthly = Recurring(Every.MONTH, 1, date(2024, 9, 1), date(2025, 6, 30))
    assert rows(plan) == [
        (1, "1.1", 1, "Организационная работа", "Педагогический совет", "Август 2024",
         _month("2024-08"), "", "Директор"),
        (2, "1.2", 1, "Организационная работа", "Совещание при директоре", "Ежемесячно",
         monthly, "", "Заместитель директора"),
        (3, "2.1", 2, "Методическая работа", "Семинар «Функциональная грамотность»", "Ноябрь",
         _month("2024-11"), "", "Методист Петрова А.А."),
    ]  # fmt: skip
    assert plan.unresolved == ()


def test_typed_two_and_three_level_numbers_are_labels_and_items_are_counted_in_order() -> None:
    document = titled("План работы школы на 2024/25 уч. г.")
    table(document, ("№", "Мероприятие", "Срок исполнения"), [
        ("1.", "Работа с кадрами", ""),
        ("1.1", "Аттестация педагогов", "В течение года"),
        ("1.2", "Курсы повышения квалификации", ""),
        ("1.2.1", "Курсы по ФГОС", "Октябрь 2024"),
        ("1.2.2", "Курсы по ИКТ", "I четверть"),
    ])  # fmt: skip
    plan = parse_plan_file(to_bytes(document))
    assert plan.school_year == SY
    assert rows(plan) == [
        (1, "1.1", 1, "Работа с кадрами", "Аттестация педагогов", "В течение года",
         _range("2024-09-01", "2025-06-30"), "", ""),
        (2, "1.2.1", 2, "Курсы повышения квалификации", "Курсы по ФГОС", "Октябрь 2024",
         _month("2024-10"), "", ""),
        (3, "1.2.2", 2, "Курсы повышения квалификации", "Курсы по ИКТ", "I четверть",
         _range("2024-09-01", "2024-10-31"), "", ""),
    ]  # fmt: skip
    assert [item.key for item in plan.items] == [f"plan:2024-2025:{n}" for n in (1, 2, 3)]


def test_a_timing_column_first_with_a_vertically_merged_month_over_three_rows() -> None:
    document = titled("План воспитательной работы на 2024-2025 учебный год")
    word = table(document, ("Месяц", "Мероприятие", "Ответственный"), [
        ("", "Торжественная линейка «День знаний»", "Заместитель директора по ВР"),
        ("", "Неделя безопасности", "Классные руководители"),
        ("", "Осенний кросс", "Учитель физкультуры"),
        ("Октябрь", "День учителя", "Совет старшеклассников"),
    ])  # fmt: skip
    word.cell(1, 0).merge(word.cell(3, 0)).text = "Сентябрь"
    plan = parse_plan_file(to_bytes(document))
    september = _month("2024-09")
    assert rows(plan) == [
        (1, "", 0, "", "Торжественная линейка «День знаний»", "Сентябрь", september, "",
         "Заместитель директора по ВР"),
        (2, "", 0, "", "Неделя безопасности", "Сентябрь", september, "",
         "Классные руководители"),
        (3, "", 0, "", "Осенний кросс", "Сентябрь", september, "", "Учитель физкультуры"),
        (4, "", 0, "", "День учителя", "Октябрь", _month("2024-10"), "",
         "Совет старшеклассников"),
    ]  # fmt: skip


def test_columns_in_an_unusual_order_with_responsible_and_audience_and_a_mark_column() -> None:
    document = titled()
    header = ("Ответственный(-ые)", "Дата", "Целевая аудитория", "№ п/п", "Тема",
              "Ожидаемый результат", "Отметка о выполнении")  # fmt: skip
    table(document, header, [
        ("Иванова И.И.", "15.10.2024", "Педагоги ОУ", "1", "Семинар «Цифровая школа»",
         "Методические рекомендации", "выполнено"),
        ("Петров П.П., Сидорова С.С.", "Март – апрель 2025", "Руководители ДОУ", "2",
         "Конкурс «Воспитатель года»", "Победители", ""),
    ])  # fmt: skip
    plan = parse_plan_file(to_bytes(document))
    assert rows(plan) == [
        (1, "1", 0, "", "Семинар «Цифровая школа»", "15.10.2024",
         _range("2024-10-15", "2024-10-15"), "Педагоги ОУ", "Иванова И.И."),
        (2, "2", 0, "", "Конкурс «Воспитатель года»", "Март – апрель 2025",
         _range("2025-03-01", "2025-04-30"), "Руководители ДОУ", "Петров П.П., Сидорова С.С."),
    ]  # fmt: skip
    assert [item.result for item in plan.items] == ["Методические рекомендации", "Победители"]
    data = json.loads(json.dumps(plan.to_json(), ensure_ascii=False))
    assert data["items"][1]["responsible"] == "Петров П.П., Сидорова С.С."
    assert data["items"][1]["audience"] == "Руководители ДОУ"
    assert data["items"][0]["label"] == "1"


def test_heading_rows_without_a_number_are_sections_numbered_in_order() -> None:
    document = titled()
    word = table(document, ("№", "Наименование мероприятия", "Сроки проведения", "Участники"), [
        ("1", "Совещание заместителей", "Сентябрь", "Заместители директоров"),
        ("2", "Семинар для воспитателей", "2 раза в год (октябрь, апрель)", "Воспитатели ДОО"),
    ])  # fmt: skip
    merged_heading(word, "Работа с руководителями", before=1)
    merged_heading(word, "II. Работа с педагогами", before=3)
    plan = parse_plan_file(to_bytes(document))
    assert rows(plan) == [
        (1, "1", 1, "Работа с руководителями", "Совещание заместителей", "Сентябрь",
         _month("2024-09"), "Заместители директоров", ""),
        (2, "2", 2, "Работа с педагогами", "Семинар для воспитателей",
         "2 раза в год (октябрь, апрель)", Months(((2024, 10), (2025, 4))), "Воспитатели ДОО",
         ""),
    ]  # fmt: skip


def test_two_tables_the_second_under_its_own_heading_and_with_no_header_of_its_own() -> None:
    document = titled()
    num_id, _ = add_list(document)
    first = table(document, ("№ п/п", "Мероприятие", "Сроки", "Ответственный"), [
        ("", "Семинар для методистов", "Сентябрь 2024", "Методист"),
    ])  # fmt: skip
    document.add_paragraph("2. Работа с кадрами")
    second = document.add_table(rows=0, cols=4)
    for values in (("", "Аттестация", "Еженедельно, по четвергам", "Завуч"),
                   ("", "Курсы", "До 15 ноября", "Завуч")):  # fmt: skip
        for cell, value in zip(second.add_row().cells, values, strict=True):
            cell.text = value
    for row in [*first.rows[1:], *second.rows]:
        number(row.cells[0].paragraphs[0], num_id)
    document.add_paragraph("Заместитель директора ____ П.П. Петров")
    plan = parse_plan_file(to_bytes(document))
    assert rows(plan) == [
        (1, "1", 0, "", "Семинар для методистов", "Сентябрь 2024", _month("2024-09"), "",
         "Методист"),
        (2, "2", 1, "Работа с кадрами", "Аттестация", "Еженедельно, по четвергам",
         Recurring(Every.WEEK, 1, date(2024, 9, 1), date(2025, 6, 30), (3,)), "", "Завуч"),
        (3, "3", 1, "Работа с кадрами", "Курсы", "До 15 ноября",
         _range("2024-09-01", "2024-11-15"), "", "Завуч"),
    ]  # fmt: skip


def test_a_second_table_with_its_own_header_in_another_order() -> None:
    document = titled()
    table(document, ("№", "Мероприятие", "Сроки"), [("1", "Педсовет", "Август 2024")])
    document.add_paragraph("Работа с родителями")
    table(document, ("Сроки", "Мероприятие", "Ответственные"),
          [("Декабрь", "Родительское собрание", "Классные руководители")])  # fmt: skip
    plan = parse_plan_file(to_bytes(document))
    assert rows(plan) == [
        (1, "1", 0, "", "Педсовет", "Август 2024", _month("2024-08"), "", ""),
        (2, "", 1, "Работа с родителями", "Родительское собрание", "Декабрь",
         _month("2024-12"), "", "Классные руководители"),
    ]  # fmt: skip


def test_an_empty_timing_cell_is_undated_and_listed_and_a_row_without_title_skipped() -> None:
    document = titled()
    table(document, ("№ п/п", "Мероприятие", "Сроки", "Ответственный"), [
        ("1", "2", "3", "4"),  # the columns' numbers under the header
        ("1", "Конференция «Инфозона»", "", "Методист"),
        ("2", "", "Май", "Методист"),
        ("3", "Круглый стол", "Когда соберёмся", "Директор"),
        ("4", "Итоговый педсовет", "Июнь 2025", "Директор"),
    ])  # fmt: skip
    plan = parse_plan_file(to_bytes(document))
    assert rows(plan) == [
        (1, "1", 0, "", "Конференция «Инфозона»", "", Undated(), "", "Методист"),
        (2, "3", 0, "", "Круглый стол", "Когда соберёмся", Undated(), "", "Директор"),
        (3, "4", 0, "", "Итоговый педсовет", "Июнь 2025", _month("2025-06"), "", "Директор"),
    ]  # fmt: skip
    assert [(u.number, u.title, u.timing, u.reason) for u in plan.unresolved] == [
        (1, "Конференция «Инфозона»", "", UnresolvedReason.EMPTY_TIMING),
        (2, "Круглый стол", "Когда соберёмся", UnresolvedReason.UNKNOWN_TIMING),
    ]
    assert plan.to_json()["unresolved"][0]["reason"] == "empty_timing"  # type: ignore[index]


def test_a_plan_without_a_header_is_read_as_text_and_rows_take_the_given_year() -> None:
    document = Document()
    document.add_paragraph("План работы ИМЦ")
    table(document, ("1", "Семинар", "Сентябрь", "Педагоги"), [])  # no header row at all
    assert plan_rows(read_docx(to_bytes(document))) is None
    plan = parse_plan_file(to_bytes(document), (2026, 2027))
    assert [(i.number, i.title, i.timing) for i in plan.items] == [(1, "Семинар", "Сентябрь")]

    titled_rows = plan_rows(read_docx(to_bytes(_untitled_table())))
    assert titled_rows is not None
    plan = parse_plan_rows(*titled_rows, school_year=(2026, 2027))
    assert plan.items[0].when == _month("2026-10")


def _untitled_table() -> WordDocument:
    document = Document()
    document.add_paragraph("План работы ИМЦ")
    table(document, ("№", "Мероприятие", "Срок"), [("1", "Семинар", "Октябрь")])
    return document


def test_month_headings_date_the_rows_under_them_that_give_no_timing_of_their_own() -> None:
    document = titled()
    word = table(document, ("№", "Мероприятие", "Срок", "Ответственный"), [
        ("1", "Сбор сведений о кадрах", "", "Методист"),
        ("2", "Консультации для молодых педагогов", "в течение месяца", "Методист"),
        ("3", "Конференция", "15.09.2024", "Директор"),
        ("4", "Мониторинг сайтов", "В течение месяца", "Методист"),
        ("5", "Итоги четверти", "", "Завуч"),
    ])  # fmt: skip
    merged_heading(word, "СЕНТЯБРЬ", before=1)
    merged_heading(word, "Январь 2025", before=5)
    merged_heading(word, "III четверть", before=7)
    plan = parse_plan_file(to_bytes(document))
    september = _month("2024-09")
    assert [(i.section_title, i.title, i.timing, i.when) for i in plan.items] == [
        ("СЕНТЯБРЬ", "Сбор сведений о кадрах", "СЕНТЯБРЬ", september),
        ("СЕНТЯБРЬ", "Консультации для молодых педагогов", "СЕНТЯБРЬ (в течение месяца)",
         september),
        ("СЕНТЯБРЬ", "Конференция", "15.09.2024", _range("2024-09-15", "2024-09-15")),
        ("Январь 2025", "Мониторинг сайтов", "Январь 2025 (В течение месяца)",
         _month("2025-01")),
        ("III четверть", "Итоги четверти", "III четверть", _range("2025-01-01", "2025-03-31")),
    ]  # fmt: skip
    assert plan.unresolved == ()


def test_within_a_month_under_a_heading_that_is_no_month_stays_unresolved() -> None:
    document = titled()
    word = table(document, ("№", "Мероприятие", "Срок"), [
        ("1", "Консультации", "в течение месяца"), ("2", "Отчёт", ""),
    ])  # fmt: skip
    merged_heading(word, "Работа с кадрами", before=1)
    plan = parse_plan_file(to_bytes(document))
    assert [(i.timing, i.when) for i in plan.items] == [
        ("в течение месяца", Undated()), ("", Undated()),
    ]  # fmt: skip
    assert [u.reason for u in plan.unresolved] == [
        UnresolvedReason.UNKNOWN_TIMING, UnresolvedReason.EMPTY_TIMING,
    ]  # fmt: skip
