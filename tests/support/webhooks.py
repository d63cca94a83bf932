"""Webhook harness: the emulator in push mode → web workers (`run_web`, in-process on loopback),
optionally behind a round-robin balancer; a worker (`run_worker`) for the sender's side."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiogram import Dispatcher
from aiogram.types import TelegramObject, Update
from aiohttp import ClientError, ClientSession, web

from bot.app import build_dispatcher, run_web, webhook_command
from bot.config import Settings
from bot.storage.database import Database
from bot.storage.db import create_engine, migrate
from tests.support.emulator import BotAPIEmulator
from tests.support.harness import Person, make_settings

SECRET = "test-webhook-secret_0123456789"


@dataclass
class WebWorker:
    dp: Dispatcher
    task: asyncio.Task[None]
    stop: asyncio.Event
    address: str


@dataclass(frozen=True)
class Span:
    """When a worker handled an update (inside the chat's lock)."""

    worker: int
    update_id: int
    chat_id: int | None
    started: float
    ended: float


@dataclass
class RunningWeb:
    emu: BotAPIEmulator
    engine: Database
    settings: Settings
    workers: list[WebWorker] = field(default_factory=list)
    handled: list[tuple[int, Update]] = field(default_factory=list)  # (worker number, update)
    spans: list[Span] = field(default_factory=list)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)
    _numbers: itertools.count[int] = field(default_factory=itertools.count)

    def person(self, user_id: int, first_name: str = "Анна") -> Person:
        return Person(self.emu, user_id, first_name)

    def handled_ids(self) -> Counter[int]:
        return Counter(update.update_id for _, update in self.handled)

    async def wait_handled(self, count: int, within: float = 10.0) -> None:
        """Until `count` updates have been handled (by any worker)."""
        async with asyncio.timeout(within):
            while len(self.handled) < count:
                self._changed.clear()
                await self._changed.wait()

    async def start_worker(self, settings: Settings | None = None) -> WebWorker:
        number = next(self._numbers)
        settings = settings or self.settings
        dp = build_dispatcher(settings, self.engine, webhook=True)

        async def track(
            handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
            event: TelegramObject,
            data: dict[str, Any],
        ) -> Any:
            # Innermost of the outer middlewares: reached only by what is really handled.
            started = time.monotonic()
            try:
                return await handler(event, data)
            finally:
                assert isinstance(event, Update)
                chat = data.get("event_chat")
                self.spans.append(
                    Span(number, event.update_id, chat.id if chat else None, started,
                         time.monotonic())
                )  # fmt: skip
                self.handled.append((number, event))
                self._changed.set()

        dp.update.outer_middleware(track)
        stop = asyncio.Event()
        bound: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        task = asyncio.create_task(
            run_web(settings, self.engine, dp, stop=stop, serving=bound.set_result)
        )
        done, _ = await asyncio.wait({bound, task}, return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            task.result()  # raises what stopped it
        worker = WebWorker(dp, task, stop, str(bound.result()))
        self.workers.append(worker)
        return worker

    async def stop_worker(self, worker: WebWorker) -> None:
        worker.stop.set()
        await worker.task
        self.workers.remove(worker)

    async def set_webhook(self, url: str) -> None:
        """`python -m bot webhook set`'s work, with this URL."""
        await webhook_command(self.settings.model_copy(update={"webhook_url": url}), "set")

    async def stop(self) -> None:
        for worker in list(self.workers):
            await self.stop_worker(worker)


@asynccontextmanager
async def web_running(
    emu: BotAPIEmulator,
    tmp_path: Path,
    *,
    workers: int = 1,
    webhook: bool = True,
    **overrides: Any,
) -> AsyncIterator[RunningWeb]:
    """Web workers on a fresh migrated database, the emulator pushing to the first one."""
    values: dict[str, Any] = {"webhook_secret": SECRET, "web_port": 0, **overrides}
    settings = make_settings(tmp_path, telegram_api_base=emu.base_url, **values)
    engine = create_engine(settings.database_url)
    await migrate(engine)
    running = RunningWeb(emu, engine, settings)
    try:
        for _ in range(workers):
            await running.start_worker()
        if webhook and running.workers:
            await running.set_webhook(running.workers[0].address + settings.webhook_path())
        yield running
    finally:
        emu.stop_pushing()  # no more pushes to workers on their way out
        await running.stop()
        await engine.dispose()


class Balancer:
    """A round-robin HTTP proxy on loopback, as nginx in front of the web workers: each request
    goes to the next upstream; one that does not answer is skipped (nginx's next upstream)."""

    def __init__(self, upstreams: list[str]) -> None:
        self.upstreams = list(upstreams)
        self.sent: Counter[str] = Counter()
        self._next = itertools.count()
        self._runner: web.AppRunner | None = None
        self._session: ClientSession | None = None
        self.address = ""

    async def start(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/{path:.*}", self._proxy)
        self._session = ClientSession()
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.address = f"http://{host}:{port}"
        return self.address

    async def _proxy(self, request: web.Request) -> web.Response:
        assert self._session is not None
        body = await request.read()
        headers = {
            key: value
            for key, value in request.headers.items()
            if key.lower() in {"content-type", "x-telegram-bot-api-secret-token"}
        }
        for _ in range(len(self.upstreams)):
            upstream = self.upstreams[next(self._next) % len(self.upstreams)]
            try:
                async with self._session.request(
                    request.method, upstream + request.path_qs, data=body, headers=headers
                ) as answer:
                    self.sent[upstream] += 1
                    return web.Response(status=answer.status, body=await answer.read())
            except (OSError, ClientError):
                continue
        return web.Response(status=502, text="no upstream")

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()
