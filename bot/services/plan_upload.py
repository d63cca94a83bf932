"""An editor's plan file (.docx or text): read off the event loop and stored as activities.

Apart from plan_import so that `python -m bot import-plan` (text files) does not load
python-docx."""

from __future__ import annotations

import asyncio
from datetime import datetime, tzinfo

from bot.content.plan import PlanParse, parse_plan
from bot.content.plan_docx import plan_text
from bot.services.plan_import import PlanImportReport, import_plan
from bot.storage.items import ItemRepository

PLAN_FILE_MAX = 2 * 1024 * 1024  # a district's annual plan is far smaller


class PlanTooBigError(ValueError):
    def __init__(self, size: int) -> None:
        super().__init__(f"plan file of {size} bytes, limit {PLAN_FILE_MAX}")
        self.size = size


def read_plan(data: bytes) -> PlanParse:
    """A plan file's bytes as parsed rows; raises PlanFormatError when it is not a plan."""
    return parse_plan(plan_text(data))


async def import_plan_file(
    data: bytes, items: ItemRepository, tz: tzinfo, now: datetime
) -> tuple[PlanParse, PlanImportReport]:
    """Read (a long plan is CPU work: off the event loop) and store an uploaded plan.
    Raises PlanTooBigError, or PlanFormatError when the file is not a plan."""
    if len(data) > PLAN_FILE_MAX:
        raise PlanTooBigError(len(data))
    plan = await asyncio.to_thread(read_plan, data)
    return plan, await import_plan(plan, items, tz, now)
