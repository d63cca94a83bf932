"""aiogram's FSM storage on top of the bot's own database (see storage/dialogs.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, StateType, StorageKey

from bot.storage.dialogs import DialogStateRepository


class SqlStorage(BaseStorage):
    def __init__(self, dialogs: DialogStateRepository) -> None:
        self._dialogs = dialogs
        self._keys = DefaultKeyBuilder(with_destiny=True)

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        name = state.state if isinstance(state, State) else state
        await self._dialogs.put(self._keys.build(key), key.chat_id, state=name)

    async def get_state(self, key: StorageKey) -> str | None:
        state, _ = await self._dialogs.get(self._keys.build(key))
        return state

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await self._dialogs.put(self._keys.build(key), key.chat_id, data=dict(data))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        _, data = await self._dialogs.get(self._keys.build(key))
        return data

    async def close(self) -> None:
        """The engine belongs to the application, which disposes of it."""


class WordPrompt(StatesGroup):
    """A bare command that needs words («Что найти?») waits for them in this state."""

    search = State()
