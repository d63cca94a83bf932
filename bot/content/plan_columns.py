"""Which column of a plan's table is which, found by its header, in any order.

Plans name their columns in many ways («№ п/п», «Наименование мероприятия», «Сроки
проведения», «Ответственный(-ые)») and put them in any order (a timing column may come first).
`column_fields` reads a header row into the fields the importer knows; a row that doesn't name
at least what an item is and when it happens is not a header. Pure: both readers (Word tables,
text exports) hand their first rows to it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from enum import StrEnum


class Field(StrEnum):
    NUMBER = "number"
    TITLE = "title"
    TIMING = "timing"
    AUDIENCE = "audience"
    RESPONSIBLE = "responsible"
    RESULT = "result"
    FORM = "form"
    PLACE = "place"
    MARK = "mark"  # «Отметка о выполнении»: the school's own bookkeeping, never imported


# Each header, normalised (lower case, ё as е, no punctuation), is matched from its start.
_HEADERS: tuple[tuple[Field, re.Pattern[str]], ...] = tuple(
    (field, re.compile(pattern))
    for field, pattern in (
        (Field.NUMBER, r"^(?:№|n|номер)(?: п ?п)?$|^п ?п$"),
        (Field.MARK, r"^отметк"),
        (Field.RESPONSIBLE, r"^(?:ответствен|исполнител|кто проводит)"),
        (Field.AUDIENCE, r"^(?:целев\w* аудитор|участник|категори\w* участник|для кого|аудитор)"),
        (Field.RESULT, r"^(?:ожидаем\w* результат|результат|планируем\w* результат|выход)"),
        (Field.FORM, r"^форм\w*(?: проведения| работы)?$"),
        (Field.PLACE, r"^место"),
        (
            Field.TIMING,
            r"^(?:срок|дат|месяц|период|время проведения|когда|календарн\w* срок)",
        ),
        (
            Field.TITLE,
            r"^(?:наименовани|название|мероприяти|содержани|тема|направлени\w* работы|"
            r"вид\w* деятельности|виды работ|основн\w* мероприяти)",
        ),
    )
)
# A header cell is a label, not a sentence.
_LONGEST_HEADER = 60


def _normal(cell: str) -> str:
    text = cell.lower().replace("ё", "е")
    text = re.sub(r"\(.*?\)", " ", text)  # «Ответственный(-ые)», «Сроки (месяц)»
    text = re.sub(r"[^\w№]+", " ", text)
    return " ".join(text.split())


def header_field(cell: str) -> Field | None:
    """The field a header cell names, or None."""
    if len(cell) > _LONGEST_HEADER:
        return None
    text = _normal(cell)
    if not text:
        return None
    for field, pattern in _HEADERS:
        if pattern.search(text):
            return field
    return None


def column_fields(cells: Sequence[str]) -> dict[Field, int] | None:
    """Each known field's column in a header row; None if the row is no header (it must name
    a title and a timing column). The first column naming a field keeps it."""
    found: dict[Field, int] = {}
    for index, cell in enumerate(cells):
        field = header_field(cell)
        if field is not None and field not in found:
            found[field] = index
    if Field.TITLE not in found or Field.TIMING not in found:
        return None
    return found
