"""The subscriber and the vocabularies its preferences are made of."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Role(StrEnum):
    HEAD = "head"
    COORDINATOR = "coordinator"
    TEACHER = "teacher"
    PRESCHOOL = "preschool"
    METHODIST = "methodist"
    OTHER = "other"


class OrgKind(StrEnum):
    SCHOOL = "school"
    KINDERGARTEN = "kindergarten"
    EXTRA = "extra"
    OTHER = "other"


class Topic(StrEnum):
    MATERIALS = "materials"
    EVENTS = "events"
    CASES = "cases"
    ANNOUNCEMENTS = "announcements"


class Frequency(StrEnum):
    WEEKLY = "weekly"
    DAILY = "daily"
    OFF = "off"


class SubscriberStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    BLOCKED = "blocked"


ALL_TOPICS: frozenset[Topic] = frozenset(Topic)
ORG_NAME_MAX = 200


@dataclass(frozen=True, slots=True)
class Subscriber:
    chat_id: int
    name: str
    username: str | None
    role: Role | None
    org_kind: OrgKind | None
    org_name: str | None
    topics: frozenset[Topic] = field(default=ALL_TOPICS)
    frequency: Frequency = Frequency.WEEKLY
    status: SubscriberStatus = SubscriberStatus.ACTIVE
    source: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    onboarded_at: datetime | None = None

    @property
    def onboarded(self) -> bool:
        return self.onboarded_at is not None


def normalise_org_name(text: str) -> str | None:
    """An organisation name as typed on a phone: collapse whitespace; None if empty or too long."""
    cleaned = " ".join(text.split())
    if not cleaned or len(cleaned) > ORG_NAME_MAX:
        return None
    return cleaned


def parse_source(payload: str | None) -> str | None:
    """A deep-link payload kept as the subscriber's source: short, URL-safe characters only."""
    if not payload:
        return None
    payload = payload.strip()[:64]
    if not payload or not all(c.isalnum() or c in "-_" for c in payload) or not payload.isascii():
        return None
    return payload
