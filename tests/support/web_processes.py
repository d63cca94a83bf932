"""Web workers as real processes: `python -m bot web`, the production entry point, with its
settings in the environment as a server's .env gives them, started in an empty folder (so no
developer's .env leaks in). A process can be stopped as systemd does (SIGTERM) or killed
(SIGKILL: no shutdown, no answer to the requests it was in)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from yarl import URL

from bot.config import Settings
from tests.support import REPO

START_TIMEOUT = 60.0
STOP_TIMEOUT = 60.0
LOG_LINES = 200  # the last lines of a process's output kept for a report


def bot_env(**values: str) -> dict[str, str]:
    """This process's environment without any of the bot's settings, then `values` (names as
    bot/config.py reads them: BOT_TOKEN, DATABASE_URL, WEBHOOK_SECRET, WEB_PORT, …)."""
    names = {name.upper() for name in Settings.model_fields}
    env = {key: value for key, value in os.environ.items() if key.upper() not in names}
    env.update(values)
    env.update(PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1")
    return env


@dataclass
class WebProcess:
    process: asyncio.subprocess.Process
    address: str  # http://127.0.0.1:port
    port: int
    log: deque[str] = field(default_factory=lambda: deque(maxlen=LOG_LINES))
    _readers: list[asyncio.Task[None]] = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.process.pid

    def text(self) -> str:
        return "\n".join(self.log)

    async def kill(self) -> None:
        """SIGKILL: the process dies in the middle of whatever it was doing."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
        await self._finished()

    async def stop(self) -> int:
        """SIGTERM (systemd's stop): the updates in flight finish; the exit code."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        return await self._finished()

    async def _finished(self) -> int:
        code = await asyncio.wait_for(self.process.wait(), STOP_TIMEOUT)
        await asyncio.gather(*self._readers, return_exceptions=True)
        return code


async def _keep(stream: asyncio.StreamReader, log: deque[str]) -> None:
    # Read to the end: a pipe nobody reads fills up and blocks the process.
    while line := await stream.readline():
        log.append(line.decode(errors="replace").rstrip())


async def start_web_process(folder: Path, env: dict[str, str]) -> WebProcess:
    """`python -m bot web` in `folder`; returns once it accepts connections (its first line
    on stdout says where)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "web",
        cwd=folder, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None and process.stderr is not None
    log: deque[str] = deque(maxlen=LOG_LINES)
    errors = asyncio.create_task(_keep(process.stderr, log))
    try:
        line = (await asyncio.wait_for(process.stdout.readline(), START_TIMEOUT)).decode()
    except BaseException:
        process.kill()
        await process.wait()
        raise
    words = [word for word in line.split() if word.startswith("http://")]
    if not words:
        await process.wait()
        await errors
        raise RuntimeError(
            f"python -m bot web exited with {process.returncode}:\n" + "\n".join(log)
        )
    served = URL(words[0])
    port = served.port
    assert port is not None
    output = asyncio.create_task(_keep(process.stdout, log))
    return WebProcess(process, f"http://{served.host}:{port}", port, log, [errors, output])
