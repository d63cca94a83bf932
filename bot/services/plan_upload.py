"""An editor's plan file (.docx or text): read off the event loop and stored as activities.

Apart from plan_import so that `python -m bot import-plan` (text files) does not load
python-docx."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, tzinfo

from bot.content.plan import PlanParse
from bot.content.plan_docx import parse_plan_file
from bot.services.plan_import import PlanImportReport, import_plan
from bot.storage.items import ItemRepository

PLAN_FILE_MAX = 2 * 1024 * 1024  # a district's annual plan is far smaller


def check_plan_size(size: int) -> None:
    """Raises PlanTooBigError past the limit: checked before a file is downloaded or read
    (when its size is known) and again on its bytes."""
    if size > PLAN_FILE_MAX:
        raise PlanTooBigError(size)


class PlanTooBigError(ValueError):
    def __init__(self, size: int) -> None:
        super().__init__(f"plan file of {size} bytes, limit {PLAN_FILE_MAX}")
        self.size = size


def read_plan(data: bytes, school_year: tuple[int, int] | None = None) -> PlanParse:
    """A plan file's bytes as parsed rows; raises PlanFormatError when it is not a plan."""
    return parse_plan_file(data, school_year)


def likely_school_years(today: date) -> list[tuple[int, int]]:
    """What a plan without a year is most likely for: the school year under way (from
    August on, the one that starts this September) and the next one."""
    first = today.year if today.month >= 8 else today.year - 1
    return [(first, first + 1), (first + 1, first + 2)]


async def import_plan_file(
    data: bytes,
    items: ItemRepository,
    tz: tzinfo,
    now: datetime,
    *,
    school_year: tuple[int, int] | None = None,
) -> tuple[PlanParse, PlanImportReport]:
    """Read (a long plan is CPU work: off the event loop) and store an uploaded plan, in
    `school_year` when its title names none. Raises PlanTooBigError, or PlanFormatError when
    the file is not a plan (or names no year and none was given)."""
    check_plan_size(len(data))
    plan = await asyncio.to_thread(read_plan, data, school_year)
    return plan, await import_plan(plan, items, tz, now)
