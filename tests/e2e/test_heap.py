"""The bot's import-time heap is frozen, so full collections stop walking it.

Each case runs the command's real entry (`main(..., process=True)`, what `python -m bot` runs) in
its own process and reports how many objects the collector was told to leave alone: before the
freeze every full collection walked all of them (~290 000 with aiogram; 170–590 ms a pause).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support import REPO

PROBE = """
import gc, sys
import bot.app
from bot.__main__ import main

async def polling(settings, engine, dp=None):
    # What `run` would now do with Telegram: report the heap as the bot starts polling it.
    print("frozen", gc.get_freeze_count(), "walked", len(gc.get_objects()))

bot.app.run_polling = polling
assert main(sys.argv[1:], process=True) == 0
print("after", gc.get_freeze_count())
"""


def probe(folder: Path, *args: str) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"BOT_TOKEN", "DATABASE_URL"}}
    env.update(
        DATABASE_URL=f"sqlite+aiosqlite:///{folder}/heap.db",
        BOT_TOKEN="123456:" + "A" * 35,
        PYTHONPATH=str(REPO),
    )
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        cwd=folder, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_run_freezes_aiogram_and_the_bot_before_it_polls(tmp_path: Path) -> None:
    words = probe(tmp_path, "run")
    frozen, walked = int(words[words.index("frozen") + 1]), int(words[words.index("walked") + 1])
    assert frozen > 100_000  # aiogram, pydantic, SQLAlchemy and the bot's own modules
    assert walked < frozen // 10


def test_other_commands_freeze_their_imports_too(tmp_path: Path) -> None:
    words = probe(tmp_path, "schedule")
    assert int(words[words.index("after") + 1]) > 10_000
