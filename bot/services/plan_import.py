"""Storing the annual plan: each row an event/activity, re-imports update rather than duplicate."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime, time, tzinfo

from bot.content.models import Item, ItemKind, ItemStatus
from bot.content.plan import (
    DateRange,
    PlanItem,
    PlanParse,
    Unresolved,
    UnresolvedReason,
    audience_codes,
    resolve_timing,
)
from bot.storage.items import ItemRepository


@dataclass(frozen=True, slots=True)
class PlanImportReport:
    new: int
    updated: int
    unchanged: int
    unresolved: tuple[Unresolved, ...]
    dry_run: bool


def plan_item_to_item(entry: PlanItem, tz: tzinfo, now: datetime) -> Item:
    """A plan row as an item; only an exact day («20.12.2026») becomes a dated event."""
    when = entry.when
    bounds = when.bounds()
    starts_at = None
    if isinstance(when, DateRange) and when.start == when.end:
        starts_at = datetime.combine(when.start, time(), tz)
    roles, orgs = audience_codes(entry.audience)
    return Item(
        id=0,
        kind=ItemKind.EVENT,
        title=entry.title,
        body=entry.result,
        status=ItemStatus.APPROVED,
        approved_at=now,
        audience_roles=roles,
        audience_orgs=orgs,
        audience_text=entry.audience,
        responsible_text=entry.responsible or None,
        place=entry.place or None,
        timing_text=entry.timing,
        timing_json=json.dumps(when.to_json(), ensure_ascii=False, sort_keys=True),
        period_start=bounds[0] if bounds else None,
        period_end=bounds[1] if bounds else None,
        starts_at=starts_at,
        source_key=entry.key,
    )


_COMPARED = (
    "title", "body", "audience_roles", "audience_orgs", "audience_text", "responsible_text",
    "place", "timing_text", "timing_json", "period_start", "period_end", "starts_at",
)  # fmt: skip


def _same(stored: Item, fresh: Item) -> bool:
    return all(getattr(stored, name) == getattr(fresh, name) for name in _COMPARED)


async def import_plan(
    plan: PlanParse, items: ItemRepository, tz: tzinfo, now: datetime, *, dry_run: bool = False
) -> PlanImportReport:
    new = updated = unchanged = 0
    for entry in plan.items:
        fresh = plan_item_to_item(entry, tz, now)
        stored = await items.by_source_key(entry.key)
        if stored is None:
            new += 1
            if not dry_run:
                await items.add(fresh, now=now)
        elif _same(stored, fresh):
            unchanged += 1
        else:
            updated += 1
            if not dry_run:
                # An editor's decisions on the item (status, approval) stay as they were.
                changes = {name: getattr(fresh, name) for name in _COMPARED}
                await items.update(replace(stored, **changes), now)
    return PlanImportReport(new, updated, unchanged, plan.unresolved, dry_run)


async def stored_unresolved(
    items: ItemRepository, school_year: tuple[int, int]
) -> list[Unresolved]:
    """The stored plan's rows whose timing is still not understood, read back from the items
    (rows are numbered from 1 without gaps), so the list is right after a restart too."""
    found: list[Unresolved] = []
    number = 1
    while (item := await items.by_source_key(_key(school_year, number))) is not None:
        timing = item.timing_text or ""
        if not timing:
            found.append(Unresolved(number, item.title, "", UnresolvedReason.NO_TIMING, ""))
        elif resolve_timing(timing, school_year) is None:
            found.append(
                Unresolved(number, item.title, timing, UnresolvedReason.UNKNOWN_TIMING, "")
            )
        number += 1
    return found


def _key(school_year: tuple[int, int], number: int) -> str:
    return f"plan:{school_year[0]}-{school_year[1]}:{number}"
