"""Webhook harness: the emulator in push mode → web workers (`run_web`, in-process on loopback;
tests/support/web_processes.py starts them as processes), optionally behind a round-robin
balancer that behaves like nginx; a worker (`run_worker`) for the sender's side."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from aiogram import Dispatcher
from aiogram.types import TelegramObject, Update
from aiohttp import (
    ClientConnectorError,
    ClientError,
    ClientSession,
    ClientTimeout,
    ConnectionTimeoutError,
    TCPConnector,
    web,
)

from bot.app import build_dispatcher, run_web, webhook_command
from bot.config import Settings
from bot.storage.database import Database
from bot.storage.db import create_engine, migrate
from bot.storage.schema import handled_updates
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

    async def remembered(self) -> list[int]:
        """The update ids the workers remember as handled (handled_updates)."""
        async with self.engine.connect() as conn:
            rows = await conn.execute(sa.select(handled_updates.c.update_id))
            return sorted(row.update_id for row in rows)

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


@dataclass(frozen=True)
class Exchange:
    """One request the balancer passed on: to which upstream, when, and what came back (502:
    the upstream died with the request sent)."""

    upstream: str
    update_id: int | None  # the body's, for a webhook request
    started: float  # the balancer's clock (time.monotonic by default, as the emulator's)
    ended: float
    status: int


class Balancer:
    """A round-robin HTTP proxy on loopback, as nginx in front of the web workers with
    `proxy_next_upstream error timeout`: each request goes to the next upstream; one that
    refuses the connection (or does not take it in CONNECT_TIMEOUT) is skipped and the request
    goes to the one after; once the request is sent it is not sent elsewhere (nginx does not
    pass a POST on) — an upstream that dies before answering gets the request answered 502, and
    Telegram sends it again. No keep-alive to the upstreams (nginx's default), so a request is
    never written into a connection a dead upstream left."""

    CONNECT_TIMEOUT = 5.0

    def __init__(
        self,
        upstreams: list[str],
        *,
        record: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.upstreams = list(upstreams)
        self._clock = clock
        self.sent: Counter[str] = Counter()
        self.skipped = 0  # connections refused or not taken: passed to the next upstream
        self.failed = 0  # upstreams that died with the request sent: answered 502
        self.exchanges: list[Exchange] = []  # with record=True
        self._record = record
        self._next = itertools.count()
        self._runner: web.AppRunner | None = None
        self._session: ClientSession | None = None
        self.address = ""

    async def start(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/{path:.*}", self._proxy)
        self._session = ClientSession(
            connector=TCPConnector(force_close=True, limit=0),
            timeout=ClientTimeout(total=None, sock_connect=self.CONNECT_TIMEOUT),
        )
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.address = f"http://{host}:{port}"
        return self.address

    async def _proxy(self, request: web.Request) -> web.Response:
        assert self._session is not None
        started = self._clock()
        body = await request.read()
        headers = {
            key: value
            for key, value in request.headers.items()
            if key.lower() in {"content-type", "x-telegram-bot-api-secret-token"}
        }
        upstream = ""
        status = 502
        answer_body = b"no upstream"
        answer_headers: dict[str, str] = {}
        first = next(self._next)
        for offset in range(len(self.upstreams)):  # this one, then the ones after it
            upstream = self.upstreams[(first + offset) % len(self.upstreams)]
            try:
                async with self._session.request(
                    request.method, upstream + request.path_qs, data=body, headers=headers
                ) as answer:
                    self.sent[upstream] += 1
                    status, answer_body = answer.status, await answer.read()
                    # A method in the answer travels as a form: its boundary is in the type.
                    if "Content-Type" in answer.headers:
                        answer_headers["Content-Type"] = answer.headers["Content-Type"]
                    break
            except (ClientConnectorError, ConnectionTimeoutError):
                self.skipped += 1  # not sent: the next upstream gets it
                continue
            except (OSError, ClientError):
                self.sent[upstream] += 1
                self.failed += 1
                answer_body = b"upstream died"
                break
        if self._record:
            self.exchanges.append(
                Exchange(upstream, _update_id(body), started, self._clock(), status)
            )
        return web.Response(status=status, body=answer_body, headers=answer_headers)

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()


def _update_id(body: bytes) -> int | None:
    try:
        found = json.loads(body).get("update_id")
    except (ValueError, AttributeError):
        return None
    return found if isinstance(found, int) else None
