"""Every plan fixture in tests/fixtures/plans/ imports as its NAME.expected.json says, from
its text and from its Word rendition: each row's number, section, title, timing, responsible
and resolved dates, and which rows are left undated.

NAME.expected.json: {"school_year": [2023, 2024], "given_year": null | [2026, 2027],
"title": text the plan's title contains, "items": [{"label", "section", "title", "timing",
"responsible", "start", "end"} ...], "unresolved": [labels]}. "start"/"end" are the bounds of
the resolved timing (null when undated); "audience" and "place" are checked when given. An
item may carry "txt" or "docx" with fields that differ in that rendition (a vertically merged
cell is in every row it covers in Word, and only in the first one in text).
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.content.plan import PlanFormatError, PlanItem, PlanParse, PlanProblem
from bot.content.plan_docx import parse_plan_file
from tests.support.plan_fixtures import PlanFixture, plan_fixtures

FIXTURES = plan_fixtures()
FIELDS = ("label", "section", "title", "timing", "responsible", "start", "end")


def _row(item: PlanItem, fields: tuple[str, ...]) -> dict[str, Any]:
    bounds = item.when.bounds()
    row = {
        "label": item.label,
        "section": item.section_title,
        "title": item.title,
        "timing": item.timing,
        "responsible": item.responsible,
        "audience": item.audience,
        "place": item.place,
        "start": bounds[0].isoformat() if bounds else None,
        "end": bounds[1].isoformat() if bounds else None,
    }
    return {name: row[name] for name in fields}


def _expected(item: dict[str, Any], rendition: str) -> dict[str, Any]:
    row = {name: value for name, value in item.items() if name not in ("txt", "docx")}
    row.update(item.get(rendition, {}))
    return row


def _parse(fixture: PlanFixture, rendition: str) -> PlanParse:
    data = fixture.text if rendition == "txt" else fixture.docx()
    given = fixture.expected.get("given_year")
    return parse_plan_file(data, tuple(given) if given else None)


def test_there_are_at_least_ten_fixtures() -> None:
    assert len(FIXTURES) >= 10


@pytest.mark.parametrize("rendition", ["txt", "docx"])
@pytest.mark.parametrize("fixture", FIXTURES, ids=[fixture.name for fixture in FIXTURES])
def test_each_row_imports_as_expected(fixture: PlanFixture, rendition: str) -> None:
    parsed = _parse(fixture, rendition)
    expected = fixture.expected
    assert parsed.school_year == tuple(expected["school_year"])
    assert expected["title"] in parsed.title
    wanted = [_expected(item, rendition) for item in expected["items"]]
    got = [
        _row(item, tuple(name for name in (*FIELDS, "audience", "place") if name in want))
        for item, want in zip(parsed.items, wanted, strict=False)
    ]
    assert got == wanted
    assert len(parsed.items) == len(wanted)
    undated = [parsed.items[entry.number - 1].label for entry in parsed.unresolved]
    assert undated == expected["unresolved"]


@pytest.mark.parametrize("rendition", ["txt", "docx"])
@pytest.mark.parametrize(
    "fixture",
    [fixture for fixture in FIXTURES if fixture.expected.get("given_year")],
    ids=lambda fixture: fixture.name,
)
def test_a_plan_with_no_year_anywhere_asks_for_it(fixture: PlanFixture, rendition: str) -> None:
    data = fixture.text if rendition == "txt" else fixture.docx()
    with pytest.raises(PlanFormatError) as raised:
        parse_plan_file(data)
    assert raised.value.problem is PlanProblem.NO_SCHOOL_YEAR
