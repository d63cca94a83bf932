"""Subscribers made straight in storage, for tests below the bot."""

from datetime import datetime
from typing import Any

from bot.content.models import Frequency, OrgKind, Role, SubscriberStatus, Topic
from bot.storage.subscribers import SubscriberRepository, encode_topics


async def subscriber(
    repo: SubscriberRepository,
    chat_id: int,
    *,
    role: Role = Role.TEACHER,
    org: OrgKind = OrgKind.SCHOOL,
    topics: frozenset[Topic] = frozenset(Topic),
    frequency: Frequency = Frequency.WEEKLY,
    status: SubscriberStatus = SubscriberStatus.ACTIVE,
    onboarded: bool = True,
) -> None:
    await repo.register(chat_id, name=f"u{chat_id}", username=None, source=None)
    await repo.set_role(chat_id, role)
    await repo.set_org_kind(chat_id, org)
    await repo.set_topics(chat_id, topics)
    await repo.set_frequency(chat_id, frequency)
    await repo.set_status(chat_id, status)
    if onboarded:
        await repo.mark_onboarded(chat_id)


def onboarded_row(chat_id: int, name: str, now: datetime, **columns: Any) -> dict[str, Any]:
    """An onboarded teacher of a school, every topic, weekly digest: one `subscribers` row for
    a bulk insert (benches seed thousands; the repository path above is for a few)."""
    return {
        "chat_id": chat_id,
        "name": name,
        "role": Role.TEACHER.value,
        "org_kind": OrgKind.SCHOOL.value,
        "topics": encode_topics(Topic),
        "frequency": Frequency.WEEKLY.value,
        "status": SubscriberStatus.ACTIVE.value,
        "created_at": now,
        "updated_at": now,
        "onboarded_at": now,
        **columns,
    }
