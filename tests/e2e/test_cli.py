"""The bot as the operator starts it: `python -m bot run` in its own process."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from tests.support import REPO
from tests.support.emulator import BotAPIEmulator
from tests.support.harness import TOKEN


def clean_env(tmp_path: Path, **values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _SETTINGS}
    env.update(DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/cli.db", **values)
    return env


_SETTINGS = {
    "BOT_TOKEN", "ADMIN_IDS", "DATABASE_URL", "TIMEZONE", "TELEGRAM_API_BASE", "LOG_LEVEL",
    "POLLING_TIMEOUT", "OPERATOR_NAME", "PRIVACY_CONTACT",
}  # fmt: skip


async def run_bot(tmp_path: Path, env: dict[str, str]) -> asyncio.subprocess.Process:
    # Run from an empty folder so a developer's own .env can't leak into the test.
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run",
        cwd=tmp_path, env={**env, "PYTHONPATH": str(REPO)},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def test_without_a_token_it_explains_in_russian_and_exits_2(tmp_path: Path) -> None:
    process = await run_bot(tmp_path, clean_env(tmp_path))
    _, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 2
    text = stderr.decode()
    assert "Не задан токен бота (BOT_TOKEN)" in text
    assert "@BotFather" in text and ".env" in text
    assert "Traceback" not in text


async def test_a_bad_setting_is_one_line_naming_the_variable(tmp_path: Path) -> None:
    env = clean_env(tmp_path, BOT_TOKEN=TOKEN, ADMIN_IDS="12, двенадцать")
    process = await run_bot(tmp_path, env)
    _, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 2
    lines = stderr.decode().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Ошибка в настройке ADMIN_IDS")


async def test_starts_against_the_api_base_and_answers_start(tmp_path: Path) -> None:
    async with BotAPIEmulator() as emu:
        emu.user(700, first_name="Анна")
        env = clean_env(tmp_path, BOT_TOKEN=TOKEN, TELEGRAM_API_BASE=emu.base_url)
        process = await run_bot(tmp_path, env)
        try:
            await emu.wait_until_polling(timeout=30)
            emu.mark()
            emu.send_message(700, "/start")
            greeting = await emu.next_message(700, timeout=10)
            assert "«Инфозона»" in greeting["text"]
            assert "Согласен(на)" in emu.buttons(greeting)[0][0]
        finally:
            process.send_signal(signal.SIGTERM)
            _, stderr = await asyncio.wait_for(process.communicate(), 30)
    log = stderr.decode()
    assert process.returncode == 0, log
    assert "bot started" in log
    assert TOKEN not in log and TOKEN.split(":")[1] not in log
    assert "Traceback" not in log, log


async def test_a_token_telegram_rejects_is_explained(tmp_path: Path) -> None:
    async with BotAPIEmulator() as emu:
        emu.fail_next("getMe", status=401, description="Unauthorized")
        env = clean_env(tmp_path, BOT_TOKEN=TOKEN, TELEGRAM_API_BASE=emu.base_url)
        process = await run_bot(tmp_path, env)
        _, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 2
    assert "Telegram не принял токен" in stderr.decode()
    assert TOKEN not in stderr.decode()


async def test_a_start_up_error_carrying_the_url_never_shows_the_token(tmp_path: Path) -> None:
    """getMe answers with a redirect loop: aiohttp's TooManyRedirects names the request URL,
    `…/bot<token>/getMe`. The operator is told in Russian what failed; the token appears in
    nothing the process wrote — its output, its log, the files beside the database."""
    async with BotAPIEmulator() as emu:
        emu.redirect_loop("getMe")
        env = clean_env(tmp_path, BOT_TOKEN=TOKEN, TELEGRAM_API_BASE=emu.base_url)
        process = await run_bot(tmp_path, env)
        stdout, stderr = await asyncio.wait_for(process.communicate(), 30)
    text = stderr.decode()
    assert process.returncode == 1, text
    assert f"Не удалось связаться с Telegram Bot API ({emu.base_url})" in text
    assert "TooManyRedirects" in text and "/bot***/getMe" in text
    secret = TOKEN.split(":")[1]
    written = [stdout, stderr, *(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())]
    assert [out for out in written if secret.encode() in out] == []
    assert "Traceback" not in text


async def run_command(tmp_path: Path, env: dict[str, str], *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args,
        cwd=tmp_path, env={**env, "PYTHONPATH": str(REPO)},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


async def test_a_second_bot_on_the_same_database_refuses_to_start(tmp_path: Path) -> None:
    """Two bots on one SQLite database sent nearly everything twice. The second `run` now
    exits 2 with one Russian line naming the first, without a single Bot API call; the first
    keeps answering; once it is gone — even by kill -9 — a new one starts."""
    async with BotAPIEmulator() as emu:
        emu.user(700, first_name="Анна")
        # One long poll of 50 s: while the second tries, the first records no call of its own.
        env = clean_env(
            tmp_path, BOT_TOKEN=TOKEN, TELEGRAM_API_BASE=emu.base_url, POLLING_TIMEOUT="50"
        )
        first = await run_bot(tmp_path, env)
        try:
            await emu.wait_until_polling(timeout=30)
            before = emu.mark()
            code, out, err = await run_command(tmp_path, env, "run")
            assert code == 2, err
            lines = err.strip().splitlines()
            assert len(lines) == 1, err
            assert lines[0].startswith(f"Бот уже работает с базой {tmp_path}/cli.db: процесс ")
            assert f"процесс {first.pid} (python -m bot run), запущен " in lines[0]
            assert "дважды" in lines[0] and out == ""
            assert [c.method for c in emu.calls[before:]] == []  # no getMe, no getUpdates
            # Reading commands still work beside the running bot; migrate waits for its stop.
            code, out, err = await run_command(tmp_path, env, "status")
            assert code == 0 and "Состояние «Инфозоны»:" in out, err
            code, out, err = await run_command(tmp_path, env, "migrate")
            assert code == 2 and err.startswith(f"База {tmp_path}/cli.db занята: процесс "), err
            # The first still answers.
            emu.send_message(700, "/start")
            assert "«Инфозона»" in (await emu.next_message(700, timeout=10))["text"]
        finally:
            first.kill()  # SIGKILL: no clean-up of its own; the OS drops the flock
            await first.wait()
        emu.mark()
        second = await run_bot(tmp_path, env)
        try:
            await emu.wait_for(lambda c: c.method == "getMe" and c.ok, timeout=30)
            emu.send_message(700, "/help")  # queued until its first poll takes it
            assert (await emu.next_message(700, timeout=10))["text"]
        finally:
            second.send_signal(signal.SIGTERM)
            _, stderr = await asyncio.wait_for(second.communicate(), 30)
        assert second.returncode == 0, stderr.decode()
