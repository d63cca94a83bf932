"""The README's deployment steps, as the IT person runs them, each `python -m bot …` in its own
process in an empty folder (no .env, the database in data/ there): migrate, status before the
bot ever ran, backup with its second copy on «another disk», a change, restore (the change is
gone), a run against the Bot API emulator, status after it. Installing from the lock file is
`make`'s part (tests/unit/test_lock.py holds the lock to pyproject.toml).
"""

from __future__ import annotations

import asyncio
import json
import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.e2e.test_cli import clean_env, run_bot, run_command
from tests.support.emulator import BotAPIEmulator
from tests.support.harness import TOKEN


def server_env(folder: Path, **values: str) -> dict[str, str]:
    """The settings a server's .env would have; the database at its default, data/."""
    env = clean_env(folder, **values)
    for name in ("DATABASE_URL", "BACKUP_DIR", "BACKUP_COPY_DIR", "BACKUP_KEEP"):
        env.pop(name, None)
    env.update(values)
    return env


async def test_migrate_backup_change_restore_run_status_on_a_clean_folder(
    tmp_path: Path,
) -> None:
    server = tmp_path / "opt-infozona"
    server.mkdir()
    other_disk = tmp_path / "mnt-backup" / "infozona"
    env = server_env(server, BACKUP_COPY_DIR=str(other_disk), BACKUP_KEEP="2")

    code, out, err = await run_command(server, env, "migrate")
    assert code == 0, out + err
    assert (server / "data" / "infozona.db").is_file()

    code, out, err = await run_command(server, env, "status")
    assert code == 1, out + err
    assert "бот ещё не запускался" in out

    # Copies older than BACKUP_KEEP days go, on both disks.
    stale = (datetime.now(UTC).date() - timedelta(days=5)).isoformat()
    for folder in (server / "data" / "backups", other_disk):
        folder.mkdir(parents=True)
        (folder / f"infozona-{stale}.db").write_bytes(b"old")
    code, out, err = await run_command(server, env, "backup")
    assert code == 0, out + err
    [backup] = (server / "data" / "backups").glob("infozona-*.db")
    [copy] = other_disk.glob("infozona-*.db")
    assert f"Резервная копия сохранена: data/backups/{backup.name}" in out
    assert f"Вторая копия: {copy}" in out
    assert copy.name == backup.name and copy.read_bytes() == backup.read_bytes()

    # A change after the backup: a feed added.
    code, out, err = await run_command(
        server, env, "feeds", "add", "https://school5.example/rss", "--kind", "news"
    )
    assert code == 0, out + err
    code, out, _ = await run_command(server, env, "feeds", "list")
    assert "school5.example" in out

    code, out, err = await run_command(server, env, "restore", f"data/backups/{backup.name}")
    assert code == 0, out + err
    assert "База восстановлена" in out
    code, out, _ = await run_command(server, env, "feeds", "list")
    assert "Лент пока нет" in out and "school5.example" not in out

    # The restored database runs, and status tells a bot that ran from one that never did.
    async with BotAPIEmulator() as emu:
        running = {**env, "BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE": emu.base_url}
        bot = await run_bot(server, running)
        try:
            await emu.wait_until_polling(timeout=30)
            for _ in range(100):  # the sender's first heartbeat may follow the first poll
                code, out, err = await run_command(server, running, "status", "--json")
                if json.loads(out)["ran"]:
                    break
            assert code == 0, out + err
        finally:
            bot.send_signal(signal.SIGTERM)
            _, log = await asyncio.wait_for(bot.communicate(), 30)
    assert bot.returncode == 0, log.decode()
    code, out, err = await run_command(server, env, "status")
    assert code == 0, out + err
    assert "бот ещё не запускался" not in out


async def test_a_second_copy_that_fails_is_an_error_and_the_first_stays(tmp_path: Path) -> None:
    server = tmp_path / "opt-infozona"
    server.mkdir()
    not_a_disk = tmp_path / "mnt-backup"
    not_a_disk.write_text("the disk is not mounted: a file is in its place")
    env = server_env(server, BACKUP_COPY_DIR=str(not_a_disk / "infozona"))
    code, out, err = await run_command(server, env, "migrate")
    assert code == 0, out + err
    code, out, err = await run_command(server, env, "backup")
    assert code == 1
    assert "Резервная копия сохранена" in out
    assert f"⚠ Второй копии нет: не удалось записать её в {not_a_disk / 'infozona'}" in err
    assert "Traceback" not in err
    assert len(list((server / "data" / "backups").glob("infozona-*.db"))) == 1
