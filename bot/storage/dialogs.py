"""Dialog (FSM) state rows: one per storage key, so half-finished dialogs survive restarts."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from bot.storage.database import Database
from bot.storage.db import utcnow
from bot.storage.schema import fsm_states

_UNSET: Any = object()


@cache
def _upsert(dialect: str, columns: frozenset[str]) -> Any:
    """INSERT … ON CONFLICT DO UPDATE of `columns` (with the key, chat and updated_at), the
    same words on SQLite and PostgreSQL through each dialect's own construct; built once for
    each set of columns, the values bound at execution."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    values: dict[str, Any] = {name: sa.bindparam(f"v_{name}") for name in sorted(columns)}
    statement = insert(fsm_states).values(
        key=sa.bindparam("k"), chat_id=sa.bindparam("chat"), **values
    )
    return statement.on_conflict_do_update(
        index_elements=[fsm_states.c.key],
        set_={name: statement.excluded[name] for name in values},
    )


_GET = sa.select(fsm_states.c.state, fsm_states.c.data).where(
    fsm_states.c.key == sa.bindparam("k")
)
# Keys remembered as having no dialog, at most this many (then forgotten and learnt again).
REMEMBERED_EMPTY = 100_000


class DialogStateRepository:
    """Reads and writes of dialog state; with `remember_empty`, keys known to hold no dialog
    are answered from memory.

    Nearly every update comes from someone who is in no dialog, and aiogram asks for the state
    of every one (and `clear()` writes it twice on /start): remembering "empty" spares those
    reads and writes. It is safe while this process is the only one writing dialog states —
    SQLite, where the instance lock keeps a second bot off the file — because nothing but a
    write through here can put a dialog under a key, and erasing a chat only empties keys.
    """

    def __init__(self, engine: Database, *, remember_empty: bool = False) -> None:
        self._engine = engine
        self._empty: set[str] | None = set() if remember_empty else None
        # Writes so far: a read that a write overtook may not remember its (older) "empty".
        self._writes = 0

    async def get(self, key: str) -> tuple[str | None, dict[str, Any]]:
        empty = self._empty
        if empty is not None and key in empty:
            return None, {}
        writes = self._writes
        async with self._engine.connect() as conn:
            row = (await conn.execute(_GET, {"k": key})).first()
        if row is None:
            self._remember_empty(key, writes)
            return None, {}
        data: dict[str, Any] = json.loads(row.data)
        if row.state is None and not data:
            self._remember_empty(key, writes)
        return row.state, data

    def _remember_empty(self, key: str, writes_before: int) -> None:
        empty = self._empty
        if empty is None or self._writes != writes_before:
            return
        if len(empty) >= REMEMBERED_EMPTY:
            empty.clear()
        empty.add(key)

    async def put(
        self, key: str, chat_id: int, *, state: str | None = _UNSET, data: Any = _UNSET
    ) -> None:
        empty = self._empty
        if empty is not None and key in empty:
            if (state is _UNSET or state is None) and (data is _UNSET or not data):
                return  # emptying what is known empty: nothing to write
            empty.discard(key)
        self._writes += 1
        values: dict[str, Any] = {"updated_at": utcnow()}
        if state is not _UNSET:
            values["state"] = state
        if data is not _UNSET:
            values["data"] = json.dumps(data, ensure_ascii=False)
        try:
            await self._write(key, chat_id, values)
        finally:
            self._writes += 1  # and once done: a read that overlapped any of it can't remember

    async def _write(self, key: str, chat_id: int, values: dict[str, Any]) -> None:
        """One statement: insert the key's row, or update what `values` names in it."""
        upsert = _upsert(self._engine.dialect.name, frozenset(values))
        params = {"k": key, "chat": chat_id, **{f"v_{name}": v for name, v in values.items()}}
        async with self._engine.begin() as conn:
            await conn.execute(upsert, params)

    async def forget_chat(self, chat_id: int) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(fsm_states.delete().where(fsm_states.c.chat_id == chat_id))
