"""End-to-end harness: the real dispatcher, long polling against the Bot API emulator."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiogram.types import TelegramObject, Update

from bot.app import build_dispatcher, run_polling
from bot.config import Settings, load_settings
from bot.services.container import Services
from bot.storage.database import Database
from bot.storage.db import create_engine, migrate
from bot.storage.subscribers import SubscriberRepository
from tests.support.databases import scratch_url
from tests.support.emulator import BotAPIEmulator, Call

TOKEN = "123456789:AAEhBOweik6ad9r_QXMENQjcrGbqCr4K-ac"
EDITOR_ID = 9000


class Person:
    """Someone using the bot from their phone: types messages, taps buttons."""

    def __init__(self, emu: BotAPIEmulator, user_id: int, first_name: str = "Анна") -> None:
        self.emu = emu
        self.id = user_id
        emu.user(user_id, first_name=first_name)

    async def say(self, text: str, replies: int = 1) -> list[dict[str, Any]]:
        """Send a message and return the bot's `replies` new messages."""
        self.emu.mark()
        self.emu.send_message(self.id, text)
        return [await self.emu.next_message(self.id) for _ in range(replies)]

    async def say_one(self, text: str) -> dict[str, Any]:
        return (await self.say(text))[0]

    async def tap(
        self, message: dict[str, Any], label: str, *, expect: str = "edit"
    ) -> tuple[Call, dict[str, Any]]:
        """Tap the button whose text contains `label`.

        expect: "edit" waits until the message is edited, "send" for a new message, "answer"
        only for the button's answer (a toast or an alert). Returns the answer and the message
        now on screen (the edited one, or the new one).
        """
        data = self.emu.button_data(message, label)
        return await self.tap_data(message, data, expect=expect)

    async def tap_data(
        self, message: dict[str, Any], data: str, *, expect: str = "edit"
    ) -> tuple[Call, dict[str, Any]]:
        after = self.emu.mark()
        callback_id = self.emu.press(self.id, message, data)
        answer = await self.emu.answer_to(callback_id)
        message_id = message["message_id"]
        if expect == "edit":
            await self.emu.wait_for(
                lambda c: (
                    c.method in {"editMessageText", "editMessageReplyMarkup"}
                    and c.chat_id == self.id
                    and c.params.get("message_id") == message_id
                ),
                after=after,
            )
            return answer, self.emu.message(self.id, message_id)
        if expect == "send":
            return answer, await self.emu.next_message(self.id)
        return answer, self.emu.message(self.id, message_id)


async def agree(person: Person, start: str = "/start") -> dict[str, Any]:
    """/start and «Согласен(на)»: returns the first onboarding question (the same message)."""
    [greeting] = await person.say(start)
    _, step = await person.tap(greeting, "Согласен")
    return step


async def onboard(person: Person, *, role: str = "Педагог", org: str = "Школа") -> None:
    step = await agree(person)
    _, step = await person.tap(step, role)
    if "Где вы работаете" in step["text"]:  # a воспитатель детского сада isn't asked
        _, step = await person.tap(step, org)
    _, step = await person.tap(step, "Пропустить")
    _, step = await person.tap(step, "Готово")
    await person.tap(step, "Раз в неделю")


async def subscribe(person: Person, *, topics_off: tuple[str, ...], frequency: str) -> None:
    question = await agree(person)
    _, step = await person.tap(question, "Педагог")
    _, step = await person.tap(step, "Школа")
    _, step = await person.tap(step, "Пропустить")
    for label in topics_off:
        _, step = await person.tap(step, label)
    _, step = await person.tap(step, "Готово")
    await person.tap(step, frequency)


@dataclass
class RunningBot:
    emu: BotAPIEmulator
    engine: Database
    settings: Settings
    subscribers: SubscriberRepository
    _tasks: list[tuple[Any, asyncio.Task[None]]] = field(default_factory=list)
    _handled: list[Update] = field(default_factory=list)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def _track(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        """Outer middleware: lets a test wait until an update has been fully handled."""
        try:
            return await handler(event, data)
        finally:
            assert isinstance(event, Update)
            self._handled.append(event)
            self._changed.set()

    async def handled(self, predicate: Callable[[Update], bool], within: float = 5.0) -> Update:
        """The first handled update matching `predicate`, waiting for it if need be."""
        async with asyncio.timeout(within):
            while True:
                for update in self._handled:
                    if predicate(update):
                        return update
                self._changed.clear()
                await self._changed.wait()

    def person(self, user_id: int, first_name: str = "Анна") -> Person:
        return Person(self.emu, user_id, first_name)

    @property
    def dp(self) -> Any:
        """The running dispatcher."""
        return self._tasks[-1][0]

    @property
    def services(self) -> Services:
        """The running bot's services, as its handlers get them (`wake` wakes its sender)."""
        services: Services = self.dp["services"]
        return services

    async def start(self) -> None:
        dp = build_dispatcher(self.settings, self.engine, with_timetable=False)
        dp.update.outer_middleware(self._track)
        task = asyncio.create_task(run_polling(self.settings, self.engine, dp))
        self._tasks.append((dp, task))
        await self.emu.wait_until_polling()

    async def stop(self) -> None:
        while self._tasks:
            dp, task = self._tasks.pop()
            if not task.done():
                await dp.stop_polling()
            await task

    async def restart(self) -> None:
        await self.stop()
        await self.start()


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "bot_token": TOKEN,
        "database_url": scratch_url(tmp_path, "infozona"),
        "admin_ids": (EDITOR_ID,),
        "polling_timeout": 5,
        # The suite runs at any hour; quiet hours are tested with a clock of their own.
        "quiet_hours": "",
        "_env_file": None,
    }
    values.update(overrides)
    return load_settings(**values)


@pytest.fixture
async def emu() -> AsyncIterator[BotAPIEmulator]:
    async with BotAPIEmulator() as emulator:
        yield emulator


@asynccontextmanager
async def bot_running(
    emu: BotAPIEmulator, tmp_path: Path, **overrides: Any
) -> AsyncIterator[RunningBot]:
    """The real bot on a fresh migrated database, polling the emulator, stopped on exit."""
    settings = make_settings(tmp_path, telegram_api_base=emu.base_url, **overrides)
    engine = create_engine(settings.database_url)
    await migrate(engine)
    running = RunningBot(emu, engine, settings, SubscriberRepository(engine))
    await running.start()
    try:
        yield running
    finally:
        await running.stop()
        await engine.dispose()


@pytest.fixture
async def running_bot(emu: BotAPIEmulator, tmp_path: Path) -> AsyncIterator[RunningBot]:
    async with bot_running(emu, tmp_path) as running:
        yield running
