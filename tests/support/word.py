"""Word documents built in tests and benches with python-docx, with the automatic list
numbering real Word writes: `w:abstractNum` and `w:num` definitions in the numbering part, and
`w:numPr` (`w:numId`, `w:ilvl`) in a paragraph's or a paragraph style's `w:pPr`."""

from __future__ import annotations

import io
from collections.abc import Sequence
from itertools import count

from docx import Document
from docx.document import Document as WordDocument
from docx.enum.style import WD_STYLE_TYPE
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.oxml.xmlchemy import BaseOxmlElement
from docx.table import Table
from docx.text.paragraph import Paragraph

_IDS = count(100)
PLAN_TITLE = "План работы ИМЦ на 2024-2025 учебный год"
PLAN_HEADER = ("№ п/п", "Мероприятие", "Сроки", "Ответственный")


def add_list(
    document: WordDocument,
    levels: Sequence[tuple[str, str]] = (("decimal", "%1."),),
    *,
    start: int = 1,
    abstract_id: int | None = None,
    start_overrides: dict[int, int] | None = None,
) -> tuple[int, int]:
    """A list definition: (numFmt, lvlText) per level, each starting at `start`; or, given
    `abstract_id`, one more num instance of that list (with its startOverrides).
    Returns (numId, abstractNumId)."""
    numbering = document.part.numbering_part.element
    if abstract_id is None:
        abstract_id = next(_IDS)
        lvls = "".join(
            f'<w:lvl w:ilvl="{i}"><w:start w:val="{start}"/><w:numFmt w:val="{fmt}"/>'
            f'<w:lvlText w:val="{text}"/><w:lvlJc w:val="left"/></w:lvl>'
            for i, (fmt, text) in enumerate(levels)
        )
        abstract = parse_xml(
            f'<w:abstractNum {nsdecls("w")} w:abstractNumId="{abstract_id}">'
            f'<w:multiLevelType w:val="multilevel"/>{lvls}</w:abstractNum>'
        )
        first_num = numbering.find(qn("w:num"))  # abstractNums come before nums
        if first_num is not None:
            first_num.addprevious(abstract)
        else:
            numbering.append(abstract)
    num_id = next(_IDS)
    overrides = "".join(
        f'<w:lvlOverride w:ilvl="{lvl}"><w:startOverride w:val="{value}"/></w:lvlOverride>'
        for lvl, value in (start_overrides or {}).items()
    )
    numbering.append(
        parse_xml(
            f'<w:num {nsdecls("w")} w:numId="{num_id}">'
            f'<w:abstractNumId w:val="{abstract_id}"/>{overrides}</w:num>'
        )
    )
    return num_id, abstract_id


def _num_pr(num_id: int | None, ilvl: int | None) -> BaseOxmlElement:
    inner = (f'<w:ilvl w:val="{ilvl}"/>' if ilvl is not None else "") + (
        f'<w:numId w:val="{num_id}"/>' if num_id is not None else ""
    )
    return parse_xml(f"<w:numPr {nsdecls('w')}>{inner}</w:numPr>")


def number(paragraph: Paragraph, num_id: int, ilvl: int = 0) -> Paragraph:
    """Put the paragraph in list `num_id` at level `ilvl`, as Word does."""
    ppr = paragraph._p.get_or_add_pPr()
    style = ppr.find(qn("w:pStyle"))
    num_pr = _num_pr(num_id, ilvl)
    if style is not None:
        style.addnext(num_pr)
    else:
        ppr.insert(0, num_pr)
    return paragraph


def numbered_style(document: WordDocument, name: str, num_id: int, ilvl: int = 0) -> str:
    """A paragraph style whose paragraphs are numbered by list `num_id`; returns its name."""
    style = document.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    style.element.get_or_add_pPr().insert(0, _num_pr(num_id, ilvl))
    return name


def to_bytes(document: WordDocument) -> bytes:
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def table(document: WordDocument, header: Sequence[str], rows: Sequence[Sequence[str]]) -> Table:
    """A table with a header row and rows of typed cell texts."""
    result: Table = document.add_table(rows=0, cols=len(header))
    for values in (header, *rows):
        for cell, value in zip(result.add_row().cells, values, strict=True):  # type: ignore[no-untyped-call]
            cell.text = value
    return result


def word_numbered_plan() -> bytes:
    """A plan as an editor types it in Word: numbers in the first column by automatic
    numbering, a heading row merged across the table, a timing cell over two rows."""
    document = Document()
    num_id, _ = add_list(document)
    document.add_paragraph(PLAN_TITLE)
    rows = [("", "Семинар для заместителей директоров", "Сентябрь 2024", "Руководители ОУ"),
            ("", "Конкурс «Учитель года»", "", "Педагоги"),
            ("", "Совещание руководителей", "", "Руководители ОУ"),
            ("", "Отчёт о работе за год", "Май 2025", "Методисты")]  # fmt: skip
    word = table(document, PLAN_HEADER, rows)
    word.cell(2, 2).merge(word.cell(3, 2)).text = "Январь-февраль 2025"
    for row in word.rows[1:]:
        number(row.cells[0].paragraphs[0], num_id)
    section = word.add_row()  # type: ignore[no-untyped-call]
    cells = section.cells
    cells[0].merge(cells[3]).text = "1. Организационная работа"
    word.rows[1]._tr.addprevious(section._tr)
    return to_bytes(document)
