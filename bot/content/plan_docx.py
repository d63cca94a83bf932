"""The annual plan as a Word .docx: its paragraphs and table cells as text, in reading order,
shaped like the plain-text export (bot.content.plan) so the same parser reads both.

A table row becomes one line per cell (a cell's paragraphs joined by spaces, since the cell's
bounds are known here and the text parser would otherwise have to guess them). A row that opens
with a number is an item («3» on its own line, then its cells) when it has more cells, or a
section («2. …») when the number has just one cell beside it.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator

from docx import Document
from docx.oxml.ns import qn
from docx.oxml.xmlchemy import BaseOxmlElement
from docx.text.paragraph import Paragraph

from bot.content.plan import PlanFormatError, PlanProblem, decode_plan

# A 2 MB upload can unzip to gigabytes; a real plan's XML is well under this.
UNZIPPED_MAX = 30 * 1024 * 1024

_NUMBER = re.compile(r"^(\d{1,3})\.?$")


def is_zip(data: bytes) -> bool:
    return data.startswith(b"PK\x03\x04")


def _paragraph_text(p: BaseOxmlElement) -> str:
    return " ".join(Paragraph(p, None).text.split())  # type: ignore[arg-type]


def _cell_lines(tc: BaseOxmlElement) -> Iterator[str]:
    """A cell's text as one line, and the lines of any table nested in it."""
    words: list[str] = []
    for child in tc.iterchildren():
        if child.tag == qn("w:p"):
            text = _paragraph_text(child)
            if text:
                words.append(text)
        elif child.tag == qn("w:tbl"):
            if words:
                yield " ".join(words)
                words = []
            yield from _table_lines(child)
    if words:
        yield " ".join(words)


def _continues_merge(tc: BaseOxmlElement) -> bool:
    """The lower part of a vertically merged cell: its text belongs to the cell above."""
    props = tc.find(qn("w:tcPr"))
    merge = props.find(qn("w:vMerge")) if props is not None else None
    return merge is not None and merge.get(qn("w:val")) in (None, "continue")


def _row_lines(tr: BaseOxmlElement) -> list[str]:
    cells: list[str] = []
    for tc in tr.iterchildren(qn("w:tc")):
        if _continues_merge(tc):
            continue
        cells.extend(_cell_lines(tc))
    cells = [c for c in cells if c]
    if not cells:
        return []
    number = _NUMBER.match(cells[0])
    if number and len(cells) == 2:
        return [f"{number[1]}. {cells[1]}"]
    if number and len(cells) > 2:
        return [number[1], *cells[1:]]
    return cells


def _table_lines(tbl: BaseOxmlElement) -> Iterator[str]:
    for tr in tbl.iterchildren(qn("w:tr")):
        yield from _row_lines(tr)


def docx_text(data: bytes) -> str:
    """The plan's text from a .docx; PlanFormatError if it is not a readable Word document."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            unzipped = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError) as exc:
        raise PlanFormatError(PlanProblem.BROKEN_DOCX, "not a readable zip archive") from exc
    if "word/document.xml" not in names:
        raise PlanFormatError(PlanProblem.BROKEN_DOCX, "a zip archive, but not a Word document")
    if unzipped > UNZIPPED_MAX:
        raise PlanFormatError(PlanProblem.BROKEN_DOCX, "the document unzips to too much data")
    try:
        body = Document(io.BytesIO(data)).element.body
    except Exception as exc:  # python-docx raises assorted zip, XML and key errors
        raise PlanFormatError(PlanProblem.BROKEN_DOCX, "python-docx could not read it") from exc
    lines: list[str] = []
    for child in body.iterchildren():
        if child.tag == qn("w:p"):
            text = _paragraph_text(child)
            if text:
                lines.append(text)
        elif child.tag == qn("w:tbl"):
            lines.extend(_table_lines(child))
    return "\n".join(lines)


def plan_text(data: bytes) -> str:
    """The text of an uploaded plan: a .docx, or plain text in any of decode_plan's encodings."""
    return docx_text(data) if is_zip(data) else decode_plan(data)
