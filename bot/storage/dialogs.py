"""Dialog (FSM) state rows: one per storage key, so half-finished dialogs survive restarts."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from bot.storage.database import Database
from bot.storage.db import utcnow
from bot.storage.schema import fsm_states

_UNSET: Any = object()


class DialogStateRepository:
    def __init__(self, engine: Database) -> None:
        self._engine = engine

    async def get(self, key: str) -> tuple[str | None, dict[str, Any]]:
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    sa.select(fsm_states.c.state, fsm_states.c.data).where(fsm_states.c.key == key)
                )
            ).first()
        if row is None:
            return None, {}
        data: dict[str, Any] = json.loads(row.data)
        return row.state, data

    async def put(
        self, key: str, chat_id: int, *, state: str | None = _UNSET, data: Any = _UNSET
    ) -> None:
        values: dict[str, Any] = {"updated_at": utcnow()}
        if state is not _UNSET:
            values["state"] = state
        if data is not _UNSET:
            values["data"] = json.dumps(data, ensure_ascii=False)
        update = fsm_states.update().where(fsm_states.c.key == key).values(**values)
        async with self._engine.begin() as conn:
            if (await conn.execute(update)).rowcount:
                return
        try:
            async with self._engine.begin() as conn:
                await conn.execute(fsm_states.insert().values(key=key, chat_id=chat_id, **values))
        except IntegrityError:  # a concurrent first write for the same key won the insert
            async with self._engine.begin() as conn:
                await conn.execute(update)

    async def forget_chat(self, chat_id: int) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(fsm_states.delete().where(fsm_states.c.chat_id == chat_id))
