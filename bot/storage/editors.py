"""Editors (beyond the owners from ADMIN_IDS) and the audit log of editor actions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from bot.storage.database import Database
from bot.storage.db import as_utc, utcnow
from bot.storage.schema import audit_log, editors


@dataclass(frozen=True, slots=True)
class Editor:
    user_id: int
    name: str
    added_by: int | None
    created_at: datetime | None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    at: datetime
    actor_id: int
    action: str
    allowed: bool
    details: str


class EditorRepository:
    def __init__(self, engine: Database) -> None:
        self._engine = engine

    async def is_editor(self, user_id: int) -> bool:
        async with self._engine.connect() as conn:
            found = await conn.execute(
                sa.select(editors.c.user_id).where(editors.c.user_id == user_id)
            )
            return found.first() is not None

    async def add(self, user_id: int, name: str, added_by: int | None) -> bool:
        """False if they are an editor already."""
        try:
            async with self._engine.begin() as conn:
                await conn.execute(
                    editors.insert().values(
                        user_id=user_id, name=name[:128], added_by=added_by, created_at=utcnow()
                    )
                )
        except IntegrityError:
            return False
        return True

    async def remove(self, user_id: int) -> bool:
        async with self._engine.begin() as conn:
            result = await conn.execute(editors.delete().where(editors.c.user_id == user_id))
        return bool(result.rowcount)

    async def all(self) -> list[Editor]:
        async with self._engine.connect() as conn:
            rows = await conn.execute(editors.select().order_by(editors.c.created_at))
            return [Editor(r.user_id, r.name, r.added_by, as_utc(r.created_at)) for r in rows]


class AuditRepository:
    def __init__(self, engine: Database) -> None:
        self._engine = engine

    async def record(
        self, actor_id: int, action: str, *, allowed: bool, details: str = ""
    ) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                audit_log.insert().values(
                    at=utcnow(), actor_id=actor_id, action=action[:64], allowed=allowed,
                    details=details[:500],
                )
            )  # fmt: skip

    async def recent(self, limit: int = 50) -> list[AuditEntry]:
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                audit_log.select().order_by(audit_log.c.id.desc()).limit(limit)
            )
            return [
                AuditEntry(as_utc(r.at) or utcnow(), r.actor_id, r.action, r.allowed, r.details)
                for r in rows
            ]
