"""The operator commands that need no Telegram import no aiogram at all.

Each runs as the operator runs it, `python -X importtime -m bot …` in its own process against a
temporary migrated SQLite database, and must still work (exit code, Russian output as today)
while importtime lists no module of aiogram (seconds of CPU and ~200 MB saved per command).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import FEED_FIXTURES, PLAN_2021, REPO

_SETTINGS = {
    "BOT_TOKEN", "ADMIN_IDS", "DATABASE_URL", "TIMEZONE", "TELEGRAM_API_BASE", "LOG_LEVEL",
    "POLLING_TIMEOUT", "OPERATOR_NAME", "PRIVACY_CONTACT", "BACKUP_DIR",
}  # fmt: skip


def run_cli(folder: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """Run `python -X importtime -m bot ARGS` from `folder` (no developer's .env leaks in)."""
    env = {k: v for k, v in os.environ.items() if k not in _SETTINGS}
    env.update(DATABASE_URL=f"sqlite+aiosqlite:///{folder}/cli.db", PYTHONPATH=str(REPO))
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "bot", *args],
        cwd=folder, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    modules = [
        line.rsplit("|", 1)[-1].strip()
        for line in result.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    ]
    return result, modules


def assert_no_aiogram(
    result: subprocess.CompletedProcess[str], modules: list[str], code: int = 0
) -> None:
    assert result.returncode == code, result.stdout + result.stderr[-2000:]
    # importtime really ran: the storage layer's own imports are listed.
    assert "sqlalchemy" in modules and "bot.storage.db" in modules
    assert [m for m in modules if m == "aiogram" or m.startswith("aiogram.")] == []


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with a migrated database; `migrate` itself is checked on the way."""
    folder = tmp_path_factory.mktemp("cli-imports")
    result, modules = run_cli(folder, "migrate")
    assert_no_aiogram(result, modules)
    assert "database is at the latest schema" in result.stderr
    return folder


COMMANDS: dict[str, tuple[list[str], list[str]]] = {
    "status": (["status"], ["Состояние «Инфозоны»:", "Ожидают отправки: 0 сообщений",
                           "бот ещё не запускался"]),
    "schedule": (["schedule"], ["Расписание «Инфозоны» (часовой пояс Europe/Moscow):",
                               "Еженедельный дайджест:", "Резервная копия базы"]),
    "import-plan": (["import-plan", "--dry-run", str(PLAN_2021)],
                    ["Новых: 13", "Пробный прогон: в базе ничего не изменено."]),
    "ask": (["ask", "что дальше", "--today", "2022-02-10"],
            ["подходящих мероприятий не нашлось"]),
    "feeds check": (["feeds", "check", str(FEED_FIXTURES / "rss20.xml")],
                    ["Записей, которые бот взял бы из ленты",
                     "Семинар для координаторов «Проектное управление»"]),
    "digest-preview": (["digest-preview", "--role", "teacher", "--org", "school"],
                       ["Для этих настроек дайджест пуст"]),
}  # fmt: skip
# A database no bot has run on is no all-clear: `status` says so and exits 1.
EXIT_CODES = {"status": 1}


@pytest.mark.parametrize("name", list(COMMANDS))
def test_a_command_without_telegram_imports_no_aiogram(database: Path, name: str) -> None:
    args, phrases = COMMANDS[name]
    result, modules = run_cli(database, *args)
    assert_no_aiogram(result, modules, EXIT_CODES.get(name, 0))
    for phrase in phrases:
        assert phrase in result.stdout


def test_run_still_imports_aiogram(tmp_path: Path) -> None:
    """The contrast that keeps the check honest: the Telegram command does import it."""
    result, modules = run_cli(tmp_path, "run")  # no token: explains and exits 2
    assert result.returncode == 2
    assert "aiogram" in modules
