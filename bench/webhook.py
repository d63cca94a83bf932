"""Webhook workers behind a balancer: every chat's updates in order, each handled once.

    python -m bench.webhook --chats 500 --updates-per-chat 10 --workers 2

The Bot API emulator in push mode (as Telegram: one update per chat in flight, re-sent when not
answered 200, the secret header) posts to a round-robin balancer in front of `--workers`
in-process web workers (`run_web`, the production app) on one database: the local PostgreSQL
with the local Redis for the event isolation when both answer, else SQLite in one process's
isolation (printed). Each chat sends /start and then questions («что дальше?»), all chats at
once, each message as soon as the previous one is answered 200 would allow (they are queued at
once; the emulator keeps one per chat in flight).

Figures: order_ok — the share of chats whose updates were handled in update_id order; handled_once
— the share of update ids handled exactly once; throughput in updates a second; the share of
updates each worker took. The last line:

    webhook: chats=… updates=… workers=… order_ok=… handled_once=… updates_per_s=… database=…
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import socket
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from tests.support.databases import drop_scratch_databases, postgres_url
from tests.support.emulator import BotAPIEmulator
from tests.support.webhooks import Balancer, web_running

FIRST_USER = 3_000_000
PATIENCE = 600.0


def _answers(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except OSError:
        return False
    return True


async def run(chats: int, per_chat: int, workers: int) -> None:
    on_servers = _answers(5432) and _answers(6379)
    overrides: dict[str, str] = {}
    if on_servers:
        overrides = {
            "database_url": postgres_url("bench_webhook"),
            "redis_url": "redis://127.0.0.1:6379/0",
        }
    with tempfile.TemporaryDirectory() as folder:
        async with (
            BotAPIEmulator(keep_calls=False) as emu,
            web_running(emu, Path(folder), workers=workers, webhook=False, **overrides) as web,
        ):
            balancer = Balancer([w.address for w in web.workers])
            await balancer.start()
            try:
                await web.set_webhook(balancer.address + web.settings.webhook_path())
                for n in range(chats):
                    emu.user(FIRST_USER + n, first_name="Педагог")
                total = chats * per_chat
                started = time.perf_counter()
                for step in range(per_chat):
                    for n in range(chats):
                        emu.send_message(FIRST_USER + n, "/start" if step == 0 else "что дальше?")
                await web.wait_handled(total, within=PATIENCE)
                await emu.wait_pushes(total, timeout=PATIENCE, status=200)  # all answered
                elapsed = time.perf_counter() - started
            finally:
                emu.stop_pushing()
                await balancer.stop()
            by_chat: dict[int | None, list[int]] = defaultdict(list)
            for span in sorted(web.spans, key=lambda s: s.started):
                by_chat[span.chat_id].append(span.update_id)
            in_order = sum(1 for ids in by_chat.values() if ids == sorted(ids))
            counts = web.handled_ids()
            once = sum(1 for update in emu.updates if counts[update["update_id"]] == 1)
            shares: dict[int, int] = defaultdict(int)
            for span in web.spans:
                shares[span.worker] += 1
    database = "postgresql+redis" if on_servers else "sqlite"
    print(f"{chats} chats × {per_chat} updates through {workers} web workers ({database})")
    print(f"{total} updates in {elapsed:.1f} s: {total / elapsed:.0f}/s")
    print("taken by worker: " + ", ".join(f"{w}: {c}" for w, c in sorted(shares.items())))
    print(
        f"webhook: chats={chats} updates={total} workers={workers} "
        f"order_ok={in_order / max(len(by_chat), 1):.3f} handled_once={once / total:.3f} "
        f"updates_per_s={total / elapsed:.0f} database={database}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--chats", type=int, default=500)
    parser.add_argument("--updates-per-chat", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    try:
        asyncio.run(run(args.chats, args.updates_per_chat, args.workers))
    finally:
        drop_scratch_databases()


if __name__ == "__main__":
    main()
