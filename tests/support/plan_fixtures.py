"""The plan fixtures in tests/fixtures/plans/: each plan as text (NAME.txt), as the Word
document its NAME.docx.json describes (built here with python-docx), and what importing it
must give (NAME.expected.json).

A Word spec: {"paragraphs": [...above the first table...], "tables": [table, ...]}, a table:
{"before": [...paragraphs above it...], "header": [...cells...], "numbering": ["%1.", "%1.%2."],
"rows": [row, ...]}. A row is a list of cell texts, or {"heading": text} for one cell merged
across the row ({"heading": text, "number": "#"} numbers it too). In a row's cells, "\\n" starts
a new paragraph in the cell; "^" continues the cell above (a vertical merge); "#", "##", ...
in the first cell is Word's automatic number at that level of the table's `numbering` (the
cell holds no typed text, as in a real document); "# text" numbers the cell's own text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docx import Document
from docx.document import Document as WordDocument
from docx.table import Table, _Cell

from tests.support.word import add_list, number, to_bytes

PLANS = Path(__file__).resolve().parents[1] / "fixtures" / "plans"


@dataclass(frozen=True, slots=True)
class PlanFixture:
    name: str
    text: bytes
    word: dict[str, Any]
    expected: dict[str, Any]

    def docx(self) -> bytes:
        return build_docx(self.word)


def plan_fixtures() -> list[PlanFixture]:
    return [
        PlanFixture(
            path.stem,
            path.read_bytes(),
            json.loads(path.with_suffix(".docx.json").read_text("utf-8")),
            json.loads(path.with_suffix(".expected.json").read_text("utf-8")),
        )
        for path in sorted(PLANS.glob("*.txt"))
    ]


def plan_fixture(name: str) -> PlanFixture:
    [found] = [fixture for fixture in plan_fixtures() if fixture.name == name]
    return found


def _fill(document: WordDocument, cell: _Cell, text: str, num_id: int | None) -> None:
    """The cell's paragraphs; a leading «#»-run numbers the first at that level."""
    level = None
    marks = text.split(" ", 1)[0] if text.startswith("#") else ""
    if marks and set(marks) == {"#"}:
        level, text = len(marks) - 1, text[len(marks) :].lstrip()
    paragraphs = text.split("\n")
    cell.text = paragraphs[0]
    for extra in paragraphs[1:]:
        cell.add_paragraph(extra)
    if level is not None:
        if num_id is None:
            raise ValueError("a «#» number in a table without `numbering`")
        number(cell.paragraphs[0], num_id, level)


def _table(document: WordDocument, spec: dict[str, Any]) -> Table:
    for paragraph in spec.get("before", ()):
        document.add_paragraph(paragraph)
    header: list[str] = spec["header"]
    num_id = None
    if spec.get("numbering"):
        num_id, _ = add_list(document, [("decimal", text) for text in spec["numbering"]])
    table: Table = document.add_table(rows=0, cols=len(header))
    for cell, text in zip(table.add_row().cells, header, strict=True):  # type: ignore[no-untyped-call]
        cell.text = text
    for row_spec in spec["rows"]:
        cells = table.add_row().cells  # type: ignore[no-untyped-call]
        if isinstance(row_spec, dict):
            merged = cells[0].merge(cells[-1])
            heading = row_spec["heading"]
            _fill(document, merged, f"{row_spec['number']} {heading}" if "number" in row_spec
                  else heading, num_id)  # fmt: skip
            continue
        if len(row_spec) != len(header):
            raise ValueError(f"a row of {len(row_spec)} cells under {len(header)} columns")
        for column, text in enumerate(row_spec):
            if text == "^":
                above = table.cell(len(table.rows) - 2, column)
                above.merge(cells[column])
            else:
                _fill(document, cells[column], text, num_id)
    return table


def build_docx(spec: dict[str, Any]) -> bytes:
    document = Document()
    for paragraph in spec.get("paragraphs", ()):
        document.add_paragraph(paragraph)
    for table in spec["tables"]:
        _table(document, table)
    return to_bytes(document)
