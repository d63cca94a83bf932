"""`python -m bot web`, `worker` and `webhook set|info|delete` as the operator runs them, each in
its own process against the emulator in push mode."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

from bot import texts
from tests.e2e.test_cli import clean_env
from tests.support import REPO
from tests.support.emulator import BotAPIEmulator
from tests.support.harness import TOKEN

SECRET = "cli-webhook-secret-0123456789abcdef"


async def bot(tmp_path: Path, env: dict[str, str], *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args,
        cwd=tmp_path, env={**env, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def finished(process: asyncio.subprocess.Process) -> tuple[int, str, str]:
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def _migrated(tmp_path: Path, emu: BotAPIEmulator) -> dict[str, str]:
    """The web processes' environment, its database migrated — the deploy's first step: two
    processes must not both migrate a fresh database."""
    env = clean_env(
        tmp_path, BOT_TOKEN=TOKEN, TELEGRAM_API_BASE=emu.base_url,
        WEBHOOK_SECRET=SECRET, WEB_PORT="0",
    )  # fmt: skip
    code, _, err = await finished(await bot(tmp_path, env, "migrate"))
    assert code == 0, err
    return env


async def test_web_without_a_secret_explains_and_exits_2(tmp_path: Path) -> None:
    code, _, err = await finished(await bot(tmp_path, clean_env(tmp_path, BOT_TOKEN=TOKEN), "web"))
    assert code == 2
    assert "Не задан WEBHOOK_SECRET" in err and "Traceback" not in err


async def test_web_and_worker_processes_with_the_webhook_set_and_deleted(tmp_path: Path) -> None:
    async with BotAPIEmulator() as emu:
        emu.user(700, first_name="Анна")
        env = await _migrated(tmp_path, emu)
        web = await bot(tmp_path, env, "web")
        worker = await bot(tmp_path, env, "worker")
        try:
            assert web.stdout is not None
            line = (await asyncio.wait_for(web.stdout.readline(), 60)).decode()
            assert line.startswith("Принимаю обновления Telegram на http://127.0.0.1:")
            url = line.rsplit(" ", 1)[1].strip()
            env["WEBHOOK_URL"] = url
            code, out, _ = await finished(await bot(tmp_path, env, "webhook", "set"))
            assert code == 0 and url in out
            assert emu.webhook is not None and emu.webhook["secret_token"] == SECRET
            emu.mark()
            emu.send_message(700, "/start")
            greeting = await emu.next_message(700, timeout=20)
            assert "«Инфозона»" in greeting["text"]
            code, out, _ = await finished(await bot(tmp_path, env, "webhook", "info"))
            assert code == 0 and f"Адрес: {url}" in out and "Ждут доставки: 0" in out
            assert SECRET not in out
        finally:
            for process in (web, worker):
                process.send_signal(signal.SIGTERM)
            (web_code, _, web_log), (worker_code, _, worker_log) = (
                await finished(web),
                await finished(worker),
            )
        code, out, _ = await finished(await bot(tmp_path, env, "webhook", "delete"))
        assert code == 0 and "Webhook удалён" in out and emu.webhook is None
    assert web_code == 0, web_log
    assert worker_code == 0, worker_log
    assert "worker started" in worker_log
    assert not emu.calls_of("getUpdates")  # nobody polled
    for log in (web_log, worker_log):
        assert SECRET not in log and TOKEN.split(":")[1] not in log
        assert "Traceback" not in log and "Unclosed" not in log, log


async def test_an_update_a_killed_web_process_was_handling_is_handled_by_the_next(
    tmp_path: Path,
) -> None:
    async with BotAPIEmulator() as emu:
        emu.user(701, first_name="Анна")
        env = await _migrated(tmp_path, emu)
        first = await bot(tmp_path, env, "web")
        assert first.stdout is not None
        line = (await asyncio.wait_for(first.stdout.readline(), 60)).decode()
        url = line.rsplit(" ", 1)[1].strip()
        env["WEBHOOK_URL"] = url
        code, _, _ = await finished(await bot(tmp_path, env, "webhook", "set"))
        assert code == 0
        # /cancel sends its reply itself (not in the answer to Telegram); that sendMessage
        # hangs: the process is in the middle of the update.
        emu.hang_next("sendMessage", chat_id=701)
        after = emu.mark()
        emu.send_message(701, "/cancel")
        await emu.wait_for(
            lambda c: c.method == "sendMessage" and c.chat_id == 701, after=after, timeout=20
        )
        first.kill()  # SIGKILL: no shutdown, no answer to Telegram
        await first.wait()
        await emu.wait_for_push(status=0, timeout=20)
        # Another web process on the same address (the balancer's next one, in production).
        env["WEB_PORT"] = url.rsplit(":", 1)[1].split("/")[0]
        second = await bot(tmp_path, env, "web")
        try:
            emu.mark()
            reply = await emu.next_message(701, timeout=30)
            assert reply["text"] == texts.NOTHING_TO_CANCEL
            await emu.wait_for_push(status=200, timeout=20)
        finally:
            second.send_signal(signal.SIGTERM)
            code, _, log = await finished(second)
    assert code == 0, log
    assert [u["update_id"] for u in emu.updates] == [1]
