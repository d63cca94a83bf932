"""Subscribers made straight in storage, for tests below the bot."""

from bot.content.models import Frequency, OrgKind, Role, SubscriberStatus, Topic
from bot.storage.subscribers import SubscriberRepository


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
