"""`python -m bot worker` processes, the way an operator runs them on two servers: real
subprocesses of the production entry point on one database, each in an empty folder of its own
(no developer's .env leaks in), killed or stopped by the test or bench that started them.

Each worker gets its own token of the same bot (the emulator serves any well-formed token as
its one bot, and the bot's id — the token's first part — is the same), so every Bot API call
the emulator records says which process made it: `Call.token` → `Workers.by_token`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from bot.config import Settings
from bot.storage.database import Database
from bot.storage.schema import runtime_status
from tests.support import REPO

# The key the active sender writes when it takes over: "<hostname>:<pid>:<random hex>".
SENDER_OWNER = "sender_owner"
BOT_ID = "123456789"
# Every setting the bot reads from the environment: none leaks in from the caller's.
_SETTINGS = frozenset(name.upper() for name in Settings.model_fields)


def worker_token(index: int) -> str:
    """The token worker `index` runs with: one bot, one secret each (35 characters)."""
    return f"{BOT_ID}:AAEhBOweik6ad9r_QXMENQjcrGbqCr4K{index:03d}"


@dataclass
class Worker:
    index: int
    token: str
    folder: Path
    process: asyncio.subprocess.Process
    log: Path
    killed_at: float | None = None  # time.monotonic() of its SIGKILL

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def alive(self) -> bool:
        return self.process.returncode is None

    def kill(self) -> None:
        """SIGKILL, now (no await: a caller may be the emulator's synchronous tap)."""
        if self.alive:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)

    def log_text(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""


@dataclass
class Workers:
    """Worker processes on one database and one emulator."""

    api: str
    database_url: str
    folder: Path
    settings: dict[str, str] = field(default_factory=dict)  # more env: SEND_RATE="2", …
    started: list[Worker] = field(default_factory=list)

    def env(self, token: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k.upper() not in _SETTINGS}
        env.update(
            PYTHONPATH=str(REPO),
            BOT_TOKEN=token,
            TELEGRAM_API_BASE=self.api,
            DATABASE_URL=self.database_url,
            QUIET_HOURS="",
            LOG_LEVEL="INFO",
        )
        env.update(self.settings)
        return env

    async def start(self) -> Worker:
        """One more worker; it runs until killed or `stop`."""
        index = len(self.started)
        token = worker_token(index)
        folder = self.folder / f"worker{index}"
        (folder / "data").mkdir(parents=True, exist_ok=True)
        log = folder / "worker.log"
        with log.open("wb") as out:  # a file, not a pipe: nobody has to keep reading it
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "worker",
                cwd=folder, env=self.env(token),
                stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=asyncio.subprocess.STDOUT,
            )  # fmt: skip
        worker = Worker(index, token, folder, process, log)
        self.started.append(worker)
        return worker

    def by_token(self, token: str) -> Worker | None:
        return next((w for w in self.started if w.token == token), None)

    def by_pid(self, pid: int) -> Worker | None:
        return next((w for w in self.started if w.pid == pid), None)

    async def owner(self, engine: Database) -> Worker | None:
        """The worker runtime_status names as the active sender, if it is one of these."""
        async with engine.connect() as conn:
            value = (
                await conn.execute(
                    sa.select(runtime_status.c.value).where(runtime_status.c.key == SENDER_OWNER)
                )
            ).scalar()
        return self.owner_of(value)

    def owner_of(self, value: str | None) -> Worker | None:
        """The worker of pid in "<hostname>:<pid>:<hex>", if it runs on this machine."""
        if not value:
            return None
        host, _, rest = value.partition(":")
        pid, _, _ = rest.partition(":")
        if host != socket.gethostname() or not pid.isdigit():
            return None
        return self.by_pid(int(pid))

    async def stop(self, timeout: float = 20.0) -> None:  # noqa: ASYNC109 - a bound, not a delay
        """SIGTERM every worker still running, SIGKILL what has not exited within `timeout`."""
        running = [w for w in self.started if w.alive]
        for worker in running:
            with contextlib.suppress(ProcessLookupError):
                worker.process.send_signal(signal.SIGTERM)
        for worker in running:
            try:
                await asyncio.wait_for(worker.process.wait(), timeout)
            except TimeoutError:
                worker.kill()
                await worker.process.wait()
        for worker in self.started:  # killed ones too: reap them
            if worker.process.returncode is None:
                await worker.process.wait()

    def kill_all(self) -> None:
        for worker in self.started:
            worker.kill()


@contextlib.asynccontextmanager
async def workers_running(
    api: str, database_url: str, folder: Path, **settings: str
) -> AsyncIterator[Workers]:
    """Workers started by the body with `start()`; all of them stopped when it ends, however
    it ends (an error, a timeout, Ctrl-C)."""
    workers = Workers(api, database_url, folder, dict(settings))
    try:
        yield workers
    finally:
        try:
            await workers.stop()
        finally:
            workers.kill_all()
