"""The annual plan stored as events: `python -m bot import-plan`, idempotent re-imports."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.content.models import ItemKind, OrgKind, Role
from bot.content.plan import decode_plan, parse_plan
from bot.services.plan_import import import_plan
from bot.storage.database import Database
from bot.storage.db import create_engine, migrate
from bot.storage.items import ItemRepository
from tests.support import PLAN_2021
from tests.support.databases import scratch_url

PLAN = PLAN_2021
MSK = ZoneInfo("Europe/Moscow")
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=MSK)


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Database]:
    engine = create_engine(scratch_url(tmp_path, "plan"))
    await migrate(engine)
    yield engine
    await engine.dispose()


async def test_the_plan_becomes_thirteen_activities_and_reimport_changes_nothing(
    engine: Database,
) -> None:
    plan = parse_plan(decode_plan(PLAN.read_bytes()))
    items = ItemRepository(engine)
    first = await import_plan(plan, items, MSK, NOW)
    assert (first.new, first.updated, first.unchanged, first.unresolved) == (13, 0, 0, ())
    again = await import_plan(plan, items, MSK, NOW)
    assert (again.new, again.updated, again.unchanged) == (0, 0, 13)

    infozona = await items.by_source_key("plan:2021-2022:2")
    assert infozona is not None
    assert infozona.kind is ItemKind.EVENT
    assert "«Инфозона»" in infozona.title
    assert (infozona.period_start, infozona.period_end) == (date(2021, 9, 1), date(2022, 6, 30))
    assert infozona.audience_text == "Руководители и педагоги ОУ и ДОО"
    assert Role.HEAD in infozona.audience_roles and Role.TEACHER in infozona.audience_roles
    assert infozona.audience_orgs == {OrgKind.SCHOOL, OrgKind.KINDERGARTEN}
    assert infozona.starts_at is None  # a season, not a dated event


async def test_an_edited_plan_updates_its_rows_in_place(engine: Database) -> None:
    plan = parse_plan(decode_plan(PLAN.read_bytes()))
    items = ItemRepository(engine)
    await import_plan(plan, items, MSK, NOW)
    edited_row = replace(plan.items[2], title="Заседания районного Экспертного совета (онлайн)")
    edited = replace(plan, items=(*plan.items[:2], edited_row, *plan.items[3:]))
    dry = await import_plan(edited, items, MSK, NOW, dry_run=True)
    assert (dry.new, dry.updated, dry.unchanged) == (0, 1, 12)
    stored = await items.by_source_key(edited_row.key)
    assert stored is not None and stored.title.endswith("Экспертного совета")  # dry run
    report = await import_plan(edited, items, MSK, NOW)
    assert (report.new, report.updated, report.unchanged) == (0, 1, 12)
    stored = await items.by_source_key(edited_row.key)
    assert stored is not None and stored.title.endswith("(онлайн)")
