"""/forget: a subscriber's data erased, and erased on disk too, without holding anyone up.

The rows go in one go; making it final on disk (SQLite's write-ahead log still holds the old
page images) needs a checkpoint, which can't finish while someone else reads. The service tries
once, for a moment, and leaves the rest to the timetable's purge job, which retries every minute
until it succeeds.
"""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.db import purge_deleted
from bot.storage.dialogs import DialogStateRepository
from bot.storage.subscribers import SubscriberRepository

log = logging.getLogger(__name__)


class PrivacyService:
    def __init__(
        self,
        engine: AsyncEngine,
        subscribers: SubscriberRepository,
        dialogs: DialogStateRepository,
    ) -> None:
        self._engine = engine
        self._subscribers = subscribers
        self._dialogs = dialogs
        # After a restart the log may still hold what a forget just before it deleted.
        self._purge_pending = True

    @property
    def purge_pending(self) -> bool:
        return self._purge_pending

    async def forget(self, chat_id: int) -> bool:
        """Erase everything of this chat; False if it wasn't a subscriber."""
        existed = await self._subscribers.forget(chat_id)
        await self._dialogs.forget_chat(chat_id)
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
