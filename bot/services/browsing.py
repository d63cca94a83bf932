"""The "what's next" answer, shared by the bot and `python -m bot ask`."""

from __future__ import annotations

from datetime import tzinfo

from bot.content.models import Item, OrgKind, Role
from bot.content.whatsnext import NextQuery, answer_items, wants, window_moments
from bot.storage.items import ItemRepository


async def find_activities(
    items: ItemRepository,
    query: NextQuery,
    role: Role | None,
    org_kind: OrgKind | None,
    tz: tzinfo,
) -> tuple[list[Item], list[Item]]:
    """(dated events, ongoing activities) in the query's window, for the asker's audience
    unless the question named another."""
    since, until = window_moments(query, tz)
    candidates = await items.activities_between(since, until, query.start, query.end)
    return answer_items((i for i in candidates if wants(i, query, role, org_kind)), query, tz)
