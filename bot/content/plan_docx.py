"""The annual plan as a Word .docx: its body paragraphs and its tables as rows of cells.

`read_docx` gives the document as Word shows it: the body in reading order, each paragraph as
one line of text and each table as rows of cells. Decisions (tests/unit/test_plan_docx_tables.py
pins each down):

- A cell is one string: its paragraphs' texts joined with a single space (spacing tidied). The
  cell's bounds are what matter to the parser; a paragraph break inside a cell is layout.
  A table nested in a cell adds its cells' texts to that cell, in reading order.
- Word's automatic list numbering (`w:numPr` in a paragraph's properties, or in its paragraph
  style's, following `w:basedOn`) is rendered the way Word counts it: one counter per list
  (the `w:num`'s `w:abstractNum`; several `w:num` of one abstractNum continue each other unless
  a `w:lvlOverride/w:startOverride` restarts it), per level (`w:ilvl`), a level restarting its
  deeper levels, starting at `w:start` (0 when absent, as the standard says). Every numbered
  paragraph of the document counts, in reading order, in the body and in any cell. The label
  follows the level's `w:lvlText` («%1.», «%1.%2.») and `w:numFmt` (decimal, decimalZero,
  Roman, Latin and Russian letters; anything else as decimal); bullets and «none» give no label.
  The label is put before the paragraph's text («1.», «1.2. Семинар»), as Word displays it.
- A row's `number` is the label of its first cell's first paragraph without the trailing «.»
  or «)» («1», «1.2»), or None when that paragraph is not auto-numbered: a number typed as text
  stays in the cell's text and is not a `number`.
- A horizontally merged cell (`w:gridSpan`) appears once; `columns` gives each cell's first
  grid column. A row whose only cell spans the whole table grid is a `heading` (a section).
- A vertically merged cell (`w:vMerge`): the restarting cell's text is repeated in each row the
  merge covers, and those cells' indices are in the row's `continued`.

`parse_plan_file` reads an upload: a .docx whose table has a header row naming its columns
goes to the rows parser (`plan.parse_plan_rows`): the paragraphs above that table are the
title, a later table's paragraphs above it a section heading. A .docx with no such header, and
text, go to the text parser, the .docx flattened by `docx_text`.

`docx_text` flattens the document into lines shaped like the plain-text export
(bot.content.plan) so today's text parser reads it: a body paragraph is a line; a table row a
line per non-empty cell. A row that opens with a number (typed or automatic, «3» or «3.») is an
item («3» on its own line, then its cells) when it has more cells, or a section («2. …») when
the number has just one cell beside it.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field

from docx import Document
from docx.oxml.ns import qn
from docx.oxml.xmlchemy import BaseOxmlElement
from docx.text.paragraph import Paragraph

from bot.content.plan import (
    PlanFormatError,
    PlanParse,
    PlanProblem,
    decode_plan,
    parse_plan,
    parse_plan_rows,
)
from bot.content.plan_columns import column_fields

# A 2 MB upload can unzip to gigabytes; a real plan's XML is well under this.
UNZIPPED_MAX = 30 * 1024 * 1024

_NUMBER = re.compile(r"^(\d{1,3})\.?$")
_LEVELS = 9  # Word's list levels 0..8


def is_zip(data: bytes) -> bool:
    return data.startswith(b"PK\x03\x04")


# --- the document as read ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DocxRow:
    """A table row: one text per cell (a merged cell once), left to right."""

    cells: tuple[str, ...]
    number: str | None = None  # Word's automatic number of the first cell: «1», «1.2»
    heading: bool = False  # one cell spanning the whole table: a section heading
    columns: tuple[int, ...] = ()  # each cell's first grid column
    continued: frozenset[int] = frozenset()  # cells whose text comes from a vMerge above


@dataclass(frozen=True, slots=True)
class DocxTable:
    rows: tuple[DocxRow, ...]
    before: tuple[str, ...] = ()  # the body paragraphs between the previous table and this one


@dataclass(frozen=True, slots=True)
class DocxDocument:
    """The body in reading order: paragraphs (str) and tables."""

    blocks: tuple[str | DocxTable, ...]

    @property
    def paragraphs(self) -> tuple[str, ...]:
        return tuple(block for block in self.blocks if isinstance(block, str))

    @property
    def tables(self) -> tuple[DocxTable, ...]:
        return tuple(block for block in self.blocks if isinstance(block, DocxTable))


# --- Word's automatic numbering ------------------------------------------------------------------

_ROMAN = ((1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"),
          (50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i"))  # fmt: skip
_LATIN = "abcdefghijklmnopqrstuvwxyz"
_RUSSIAN = "абвгдежзиклмнопрстуфхцчшщэюя"  # Word's russianLower skips ё, й, ъ, ы, ь


def _roman(value: int) -> str:
    out = []
    for amount, letters in _ROMAN:
        while value >= amount:
            out.append(letters)
            value -= amount
    return "".join(out)


def _letters(value: int, alphabet: str) -> str:
    """Word's letter lists: a … z, then aa … zz, aaa …"""
    if value < 1:
        return ""
    index, repeat = (value - 1) % len(alphabet), (value - 1) // len(alphabet) + 1
    return alphabet[index] * repeat


def _format(value: int, fmt: str) -> str:
    if fmt == "decimalZero":
        return f"{value:02d}"
    if fmt in ("lowerRoman", "upperRoman"):
        roman = _roman(value)
        return roman.upper() if fmt == "upperRoman" else roman
    if fmt in ("lowerLetter", "upperLetter"):
        letters = _letters(value, _LATIN)
        return letters.upper() if fmt == "upperLetter" else letters
    if fmt in ("russianLower", "russianUpper"):
        letters = _letters(value, _RUSSIAN)
        return letters.upper() if fmt == "russianUpper" else letters
    return str(value)


def _val(element: BaseOxmlElement | None, tag: str) -> str | None:
    child = element.find(qn(tag)) if element is not None else None
    return child.get(qn("w:val")) if child is not None else None


def _int(text: str | None, default: int) -> int:
    try:
        return int(text) if text is not None else default
    except ValueError:
        return default


@dataclass(frozen=True, slots=True)
class _Level:
    start: int = 0
    fmt: str = "decimal"
    text: str = ""
    restart: bool = True  # restarted by a paragraph of a higher level (w:lvlRestart ≠ 0)
    legal: bool = False  # w:isLgl: every level's number shown as decimal

    @classmethod
    def of(cls, lvl: BaseOxmlElement) -> _Level:
        legal = lvl.find(qn("w:isLgl"))
        return cls(
            start=_int(_val(lvl, "w:start"), 0),
            fmt=_val(lvl, "w:numFmt") or "decimal",
            text=_val(lvl, "w:lvlText") or "",
            restart=_val(lvl, "w:lvlRestart") != "0",
            legal=legal is not None and legal.get(qn("w:val"), "1") not in ("0", "false"),
        )


@dataclass(slots=True)
class _List:
    """One num instance: its abstractNum's counters are shared with the other instances."""

    abstract: str
    levels: list[_Level]
    overrides: frozenset[int]  # levels a startOverride restarts when this num is first used
    used: bool = False


@dataclass(slots=True)
class _Numbering:
    """The numbering and style parts, and the counters as the document is read in order."""

    lists: dict[str, _List] = field(default_factory=dict)
    style_numbers: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    default_style: str | None = None
    counters: dict[str, list[int | None]] = field(default_factory=dict)

    @classmethod
    def of(cls, document: object) -> _Numbering:
        numbering = cls()
        numbering._read_styles(document)
        numbering._read_lists(document)
        return numbering

    def _read_styles(self, document: object) -> None:
        try:
            styles = document.styles.element  # type: ignore[attr-defined]
        except Exception:  # no styles part: no style numbering
            return
        own: dict[str, tuple[str | None, str | None, str | None]] = {}
        for style in styles.iterchildren(qn("w:style")):
            if style.get(qn("w:type")) != "paragraph":
                continue
            style_id = style.get(qn("w:styleId"))
            if style_id is None:
                continue
            if style.get(qn("w:default")) in ("1", "true"):
                self.default_style = style_id
            num_pr = style.find(f"{qn('w:pPr')}/{qn('w:numPr')}")
            num_id = _val(num_pr, "w:numId") if num_pr is not None else None
            ilvl = _val(num_pr, "w:ilvl") if num_pr is not None else None
            own[style_id] = (num_id, ilvl, _val(style, "w:basedOn"))
        for style_id in own:
            seen: set[str] = set()
            current: str | None = style_id
            num_id = ilvl = None
            while current is not None and current in own and current not in seen:
                seen.add(current)
                s_num, s_lvl, based_on = own[current]
                num_id = num_id if num_id is not None else s_num
                ilvl = ilvl if ilvl is not None else s_lvl
                current = based_on
            if num_id is not None:
                self.style_numbers[style_id] = (num_id, ilvl)

    def _read_lists(self, document: object) -> None:
        try:
            part = document.part.numbering_part  # type: ignore[attr-defined]
            root = part.element
        except Exception:  # no numbering part: nothing is numbered
            return
        abstracts: dict[str, BaseOxmlElement] = {}
        for abstract in root.iterchildren(qn("w:abstractNum")):
            abstract_id = abstract.get(qn("w:abstractNumId"))
            if abstract_id is not None:
                abstracts[abstract_id] = abstract
        nums: dict[str, tuple[str, BaseOxmlElement]] = {}
        for num in root.iterchildren(qn("w:num")):
            num_id, abstract_id = num.get(qn("w:numId")), _val(num, "w:abstractNumId")
            if num_id is not None and abstract_id in abstracts:
                nums[num_id] = (abstract_id, num)
        for num_id, (abstract_id, num) in nums.items():
            abstract_id = self._linked(abstract_id, abstracts, nums)
            levels = [_Level()] * _LEVELS
            for lvl in abstracts[abstract_id].iterchildren(qn("w:lvl")):
                index = _int(lvl.get(qn("w:ilvl")), -1)
                if 0 <= index < _LEVELS:
                    levels[index] = _Level.of(lvl)
            overrides: set[int] = set()
            for override in num.iterchildren(qn("w:lvlOverride")):
                index = _int(override.get(qn("w:ilvl")), -1)
                if not 0 <= index < _LEVELS:
                    continue
                lvl = override.find(qn("w:lvl"))
                if lvl is not None:
                    levels[index] = _Level.of(lvl)
                start = _val(override, "w:startOverride")
                if start is not None:
                    level = levels[index]
                    levels[index] = _Level(
                        _int(start, level.start), level.fmt, level.text, level.restart, level.legal
                    )
                    overrides.add(index)
            self.lists[num_id] = _List(abstract_id, levels, frozenset(overrides))

    def _linked(
        self,
        abstract_id: str,
        abstracts: dict[str, BaseOxmlElement],
        nums: dict[str, tuple[str, BaseOxmlElement]],
    ) -> str:
        """An abstractNum that only points at a numbering style (w:numStyleLink): the list
        that style defines."""
        link = _val(abstracts[abstract_id], "w:numStyleLink")
        style_num = self.style_numbers.get(link or "", (None, None))[0]
        if style_num in nums:
            linked = nums[style_num][0]
            if _val(abstracts[linked], "w:numStyleLink") is None:
                return linked
        return abstract_id

    def label(self, p: BaseOxmlElement) -> str | None:
        """The number Word shows before paragraph `p` («1.», «1.2.»), counting it; None when
        the paragraph is not in a numbered list (or is a bullet)."""
        ppr = p.find(qn("w:pPr"))
        num_pr = ppr.find(qn("w:numPr")) if ppr is not None else None
        num_id = _val(num_pr, "w:numId") if num_pr is not None else None
        ilvl = _val(num_pr, "w:ilvl") if num_pr is not None else None
        if num_id is None or ilvl is None:
            style = _val(ppr, "w:pStyle") if ppr is not None else None
            style_num, style_lvl = self.style_numbers.get(
                style or self.default_style or "", (None, None)
            )
            num_id = num_id if num_id is not None else style_num
            ilvl = ilvl if ilvl is not None else style_lvl
        if num_id is None or num_id == "0" or num_id not in self.lists:
            return None
        level = min(max(_int(ilvl, 0), 0), _LEVELS - 1)
        instance = self.lists[num_id]
        counters = self.counters.setdefault(instance.abstract, [None] * _LEVELS)
        if not instance.used:
            instance.used = True
            for index in instance.overrides:
                counters[index] = None
        current = counters[level]
        counters[level] = instance.levels[level].start if current is None else current + 1
        for deeper in range(level + 1, _LEVELS):
            if instance.levels[deeper].restart:
                counters[deeper] = None
        definition = instance.levels[level]
        if definition.fmt == "bullet":
            return None
        if definition.fmt == "none":
            return ""

        def number(match: re.Match[str]) -> str:
            index = int(match[1]) - 1
            if not 0 <= index <= level:
                return ""
            value = counters[index]
            shown = instance.levels[index]
            value = shown.start if value is None else value
            return str(value) if definition.legal else _format(value, shown.fmt)

        return re.sub(r"%([1-9])", number, definition.text).strip()


# --- reading -------------------------------------------------------------------------------------


def _unwrapped(element: BaseOxmlElement, tag: str) -> Iterator[BaseOxmlElement]:
    """`element`'s children named `tag` (paragraphs and tables for ""), looking through content
    controls (w:sdt)."""
    for child in element.iterchildren():
        if child.tag == qn("w:sdt"):
            content = child.find(qn("w:sdtContent"))
            if content is not None:
                yield from _unwrapped(content, tag)
        elif child.tag == tag or (tag == "" and child.tag in (qn("w:p"), qn("w:tbl"))):
            yield child


def _blocks(element: BaseOxmlElement) -> Iterator[BaseOxmlElement]:
    return _unwrapped(element, "")


class _Reader:
    def __init__(self, numbering: _Numbering) -> None:
        self.numbering = numbering

    def paragraph(self, p: BaseOxmlElement) -> tuple[str, str | None]:
        """The paragraph as Word shows it («1. Семинар»), and its automatic label."""
        label = self.numbering.label(p)
        text = " ".join(Paragraph(p, None).text.split())  # type: ignore[arg-type]
        if label:
            text = f"{label} {text}" if text else label
        return text, label

    def cell(self, tc: BaseOxmlElement) -> tuple[str, str | None]:
        """A cell's text, and the label of its first paragraph."""
        words: list[str] = []
        first: str | None = None
        seen_first = False
        for child in _blocks(tc):
            if child.tag == qn("w:p"):
                text, label = self.paragraph(child)
                if not seen_first:
                    first, seen_first = label, True
                if text:
                    words.append(text)
            else:
                seen_first = True
                for row in self.table(child).rows:
                    words.extend(cell for cell in row.cells if cell)
        return " ".join(words), first

    def table(self, tbl: BaseOxmlElement, before: tuple[str, ...] = ()) -> DocxTable:
        grid = tbl.find(qn("w:tblGrid"))
        width = len(grid.findall(qn("w:gridCol"))) if grid is not None else 0
        above: dict[int, str] = {}  # grid column → the text of the vMerge that restarted there
        rows: list[DocxRow] = []
        spans: list[tuple[int, int]] = []  # (cells, grid columns covered) per row
        for tr in _unwrapped(tbl, qn("w:tr")):
            trpr = tr.find(qn("w:trPr"))
            column = _int(_val(trpr, "w:gridBefore"), 0)
            cells: list[str] = []
            columns: list[int] = []
            continued: set[int] = set()
            number: str | None = None
            for index, tc in enumerate(_unwrapped(tr, qn("w:tc"))):
                tcpr = tc.find(qn("w:tcPr"))
                span = max(_int(_val(tcpr, "w:gridSpan"), 1), 1)
                text, label = self.cell(tc)
                merge = tcpr.find(qn("w:vMerge")) if tcpr is not None else None
                if merge is None:
                    above.pop(column, None)
                elif merge.get(qn("w:val")) == "restart":
                    above[column] = text
                else:  # continue: the text of the cell where the merge restarted
                    text = above.get(column, "")
                    continued.add(index)
                if index == 0 and label:
                    number = label.rstrip(".) ") or None
                cells.append(text)
                columns.append(column)
                column += span
            spans.append((len(cells), column))
            rows.append(DocxRow(tuple(cells), number, False, tuple(columns), frozenset(continued)))
        width = width or max((covered for _, covered in spans), default=0)
        rows = [
            DocxRow(row.cells, row.number, True, row.columns, row.continued)
            if count == 1 and covered >= width > 1 and row.columns == (0,)
            else row
            for row, (count, covered) in zip(rows, spans, strict=True)
        ]
        return DocxTable(tuple(rows), before)


def _document(data: bytes) -> object:
    """python-docx's document; PlanFormatError if it is not a readable Word document."""
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
        return Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises assorted zip, XML and key errors
        raise PlanFormatError(PlanProblem.BROKEN_DOCX, "python-docx could not read it") from exc


def read_docx(data: bytes) -> DocxDocument:
    """The .docx's body paragraphs and tables; PlanFormatError if it is not a Word document."""
    document = _document(data)
    try:
        reader = _Reader(_Numbering.of(document))
        body = document.element.body  # type: ignore[attr-defined]
        blocks: list[str | DocxTable] = []
        before: list[str] = []
        for child in _blocks(body):
            if child.tag == qn("w:p"):
                text, _ = reader.paragraph(child)
                if text:
                    blocks.append(text)
                    before.append(text)
            else:
                blocks.append(reader.table(child, tuple(before)))
                before = []
    except (ValueError, KeyError, AttributeError, TypeError) as exc:  # odd XML in the parts
        raise PlanFormatError(PlanProblem.BROKEN_DOCX, "the document's XML is malformed") from exc
    return DocxDocument(tuple(blocks))


# --- flattened for the text parser ---------------------------------------------------------------


def _row_lines(row: DocxRow) -> list[str]:
    cells = [cell for cell in row.cells if cell]
    if not cells:
        return []
    number = _NUMBER.match(cells[0])
    if number and len(cells) == 2:
        return [f"{number[1]}. {cells[1]}"]
    if number and len(cells) > 2:
        return [number[1], *cells[1:]]
    return cells


def docx_lines(document: DocxDocument) -> Iterator[str]:
    for block in document.blocks:
        if isinstance(block, str):
            yield block
        else:
            for row in block.rows:
                yield from _row_lines(row)


def docx_text(data: bytes) -> str:
    """The plan's text from a .docx; PlanFormatError if it is not a readable Word document."""
    return "\n".join(docx_lines(read_docx(data)))


def plan_text(data: bytes) -> str:
    """The text of an uploaded plan: a .docx, or plain text in any of decode_plan's encodings."""
    return docx_text(data) if is_zip(data) else decode_plan(data)


# --- read as rows --------------------------------------------------------------------------------


def _has_header(table: DocxTable) -> bool:
    return any(not row.heading and column_fields(row.cells) for row in table.rows)


def plan_rows(document: DocxDocument) -> tuple[list[str], list[DocxRow]] | None:
    """The title paragraphs and the rows, from the first table with a header on; a later
    table's paragraphs above it become a heading row. None when no table has a header."""
    tables = [block for block in document.blocks if isinstance(block, DocxTable)]
    first = next((table for table in tables if _has_header(table)), None)
    if first is None:
        return None
    title: list[str] = []
    for block in document.blocks:
        if block is first:
            break
        if isinstance(block, str):
            title.append(block)
    rows = list(first.rows)
    for table in tables[tables.index(first) + 1 :]:
        if table.before:
            rows.append(DocxRow((" ".join(table.before),), None, True, (0,)))
        rows.extend(table.rows)
    return title, rows


def parse_plan_file(data: bytes, school_year: tuple[int, int] | None = None) -> PlanParse:
    """An uploaded plan parsed: a .docx by its table's rows, text by the text parser.
    PlanFormatError when it is not a plan."""
    if not is_zip(data):
        return parse_plan(decode_plan(data), school_year)
    document = read_docx(data)
    found = plan_rows(document)
    if found is None:  # no header the importer knows: the table read as text
        return parse_plan("\n".join(docx_lines(document)), school_year)
    return parse_plan_rows(*found, school_year)
