"""/forget: a subscriber's data erased everywhere, on disk too, without holding anyone up; and
forgotten again after a restore from a backup made before.

The rows go in one transaction. Making it final on disk (SQLite's write-ahead log still holds
the old page images) needs a checkpoint, which can't finish while someone else reads: the
service tries once, for a moment, and leaves the rest to the timetable's purge job, which
retries every minute until it succeeds.

Backups keep everything for BACKUP_KEEP days. So /forget also puts the chat on the «forgotten»
list: an HMAC of the chat id under a key kept outside the database, and the moment. At every
start-up (and by `python -m bot restore`) each subscriber whose hash is on the list and who
subscribed before that moment is erased again; someone who came back later is someone new.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import os
import secrets
from datetime import datetime
from pathlib import Path

from bot.storage.database import Database
from bot.storage.db import purge_deleted, utcnow
from bot.storage.privacy import PrivacyRepository

log = logging.getLogger(__name__)

KEY_BYTES = 32


def load_key(path: Path) -> bytes:
    """The list's key, made on first use, readable by the bot's user only."""
    if path.exists():
        key = path.read_bytes()
        if len(key) >= KEY_BYTES:
            return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(KEY_BYTES)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(key)
    return key


def key_hash(key: bytes, chat_id: int) -> str:
    return hmac.new(key, str(chat_id).encode(), hashlib.sha256).hexdigest()


class PrivacyService:
    def __init__(self, engine: Database, key_file: Path) -> None:
        self._engine = engine
        self._repo = PrivacyRepository(engine)
        self._key_file = key_file
        self._key: bytes | None = None
        # After a restart the log may still hold what a forget just before it deleted.
        self._purge_pending = True

    @property
    def purge_pending(self) -> bool:
        return self._purge_pending

    async def _hash(self, chat_id: int) -> str:
        if self._key is None:
            self._key = await asyncio.to_thread(load_key, self._key_file)
        return key_hash(self._key, chat_id)

    async def forget(self, chat_id: int, now: datetime | None = None) -> bool:
        """Erase everything of this chat; False if it wasn't a subscriber."""
        existed = await self._repo.forget(chat_id, await self._hash(chat_id), now or utcnow())
        self._purge_pending = True
        await self.purge()
        return existed

    async def purge(self) -> str:
        """One bounded attempt to make deletions final on disk, if any wait for it."""
        if not self._purge_pending:
            return ""
        if await purge_deleted(self._engine):
            self._purge_pending = False
            return "deleted data purged from the write-ahead log"
        return "purge deferred: the database is being read"

    async def forgotten(self) -> dict[str, datetime]:
        return await self._repo.forgotten()

    async def remember(self, entries: dict[str, datetime]) -> None:
        await self._repo.remember(entries)

    async def reapply(self) -> int:
        """Erase again whoever is on the forgotten list (a restored backup brings them back);
        how many were."""
        entries = await self._repo.forgotten()
        if not entries:
            return 0
        again = []
        async for chat_id, since in self._repo.subscribers_since():
            at = entries.get(await self._hash(chat_id))
            if at is not None and since <= at:
                again.append(chat_id)
        for chat_id in again:
            await self._repo.erase(chat_id)
        if again:
            log.info("forgotten subscribers erased again: count=%s", len(again))
            self._purge_pending = True
            await self.purge()
        return len(again)


async def restore_backup(database_url: str, key_file: Path, backup: Path) -> int:
    """Replace the SQLite database with `backup`, carry today's forgotten list over it and
    forget them again; how many subscribers from the backup were erased. The bot must be
    stopped meanwhile."""
    from bot.storage.backup import restore_sqlite
    from bot.storage.db import create_engine, migrate

    engine = create_engine(database_url)
    try:
        await migrate(engine)
        carried = await PrivacyService(engine, key_file).forgotten()
    finally:
        await engine.dispose()
    await restore_sqlite(database_url, backup)
    engine = create_engine(database_url)
    try:
        await migrate(engine)  # a backup from before a schema change
        privacy = PrivacyService(engine, key_file)
        await privacy.remember(carried)
        erased = await privacy.reapply()
        await privacy.purge()
    finally:
        await engine.dispose()
    return erased
