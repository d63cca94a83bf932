"""Webhook workers behind a balancer: every chat's updates in order, each handled once, also
when a worker is killed half-way.

    python -m bench.webhook --chats 500 --updates-per-chat 10 --workers 2 [--kill-one]

The Bot API emulator in push mode (as Telegram: one update per chat in flight, re-sent when not
answered 200, the secret header) posts to a round-robin balancer in front of `--workers` web
workers on one database: the local PostgreSQL with the local Redis for the event isolation when
both answer, else SQLite (printed). Each chat sends /start and then questions («что дальше?»),
all chats at once, each message as soon as the previous one is answered 200 would allow (they
are queued at once; the emulator keeps one per chat in flight). Each of these steps gets exactly
one reply (the greeting; the events, or that none are found), and it comes in the worker's answer
to the push (the emulator performs it as Telegram does).

The workers are real processes (`python -m bot web`, the production entry point, its settings
in the environment, each with its own connections) behind a balancer that behaves like nginx
with `proxy_next_upstream error timeout` (tests/support/webhooks.py `Balancer`); with
`--kill-one`, one worker gets SIGKILL when half the updates have been answered 200. A process
can't be watched from inside, so "handled" is observed from outside: each reply the emulator got
is put down to the update whose answer carried it (or, for a reply a handler sent itself, to the
update the chat's worker remembered next), and the order is the one the workers remembered the
updates in (handled_updates, `handled_at`). On SQLite only one web process makes sense (the
database is one file, the event isolation one process's), so `--workers` > 1 needs the servers;
with one worker, the killed one is started again on its port, as systemd's Restart= would.
(Workers in the bench's own process, sharing its event loop and one pool of connections with
the emulator and the balancer, measured the harness more than the bot: 5 000 updates took
minutes, waiting for connections.)

A kill can't make a step answered twice: the reply travels in the answer to Telegram and the
update is remembered once that answer is written (bot/telegram/webhook.py), so a worker killed
before its answer has sent nothing and the re-sent copy replies. A reply a handler sent itself
would still be made twice by a kill between it and the remember; the bench counts every second
reply (`dup_replies`), so handled_once is honest either way. A worker killed after writing its
answer and before remembering leaves the update out of handled_updates (`remembered` < 1):
Telegram got the answer and does not send it again.

Figures: order_ok — the share of chats whose updates were handled in update_id order;
handled_once — the share of update ids with exactly one reply; steps_once — the share of chats
with exactly as many replies as messages; remembered — the share of update ids in
handled_updates; resent (pushes sent again after a non-200 answer or none), dup_replies, caught
(the requests in flight at the killed worker), early_200 (updates answered 200 before they were
handled: the webhook handler answers empty after 55 s and goes on in the background, so the
chat's next update may overtake it; an answer with the reply in it is never early), slowest_s
(the longest from an update's first push to its 200: a killed worker's Redis locks hold its
chats until their timeout) and the throughput in updates a second. The last line:

    webhook: chats=… updates=… workers=… killed=0|1 order_ok=… handled_once=… steps_once=… …
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import logging
import random
import signal
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path

# `python bench/webhook.py` as well as `python -m bench.webhook`: the repository on the path.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa

from bot.app import webhook_command
from bot.storage.database import Database
from bot.storage.db import create_engine, migrate
from bot.storage.schema import handled_updates
from bot.telegram.isolation import LOCK_TTL
from tests.support.databases import (
    LOCAL_REDIS,
    answers,
    drop_scratch_databases,
    postgres_url,
    sqlite_url,
)
from tests.support.emulator import BotAPIEmulator, Call, JSONDict
from tests.support.harness import TOKEN, make_settings
from tests.support.web_processes import bot_env, start_web_process
from tests.support.webhooks import SECRET, Balancer, Exchange

FIRST_USER = 3_000_000
PATIENCE = 600.0
REDIS_URL = LOCAL_REDIS
# A chat lock outlives a killed holder this long (bot/telegram/isolation.py renews it while
# its holder lives); the wait for the last updates allows for it.
LOCK_TIMEOUT = LOCK_TTL


def _send_dialogs(emu: BotAPIEmulator, first: int, chats: int, per_chat: int) -> None:
    for step in range(per_chat):
        for n in range(chats):
            emu.send_message(first + n, "/start" if step == 0 else "что дальше?")


async def run(
    chats: int, per_chat: int, workers: int, *, kill: bool, sqlite: bool = False
) -> None:
    """`python -m bot web` processes behind the balancer; with `kill`, one is SIGKILLed
    half-way."""
    on_servers = not sqlite and answers(5432) and answers(6379)
    if not on_servers and workers > 1:
        raise SystemExit(
            "--workers > 1 needs PostgreSQL at 127.0.0.1:5432 and Redis at "
            "127.0.0.1:6379: on SQLite only one web process makes sense (one file; each "
            "process's event isolation its own)"
        )
    database = "postgresql+redis" if on_servers else "sqlite"
    # Chats of their own each run: a killed worker's Redis locks outlive it (their timeout),
    # and a run right after must not wait for the last one's.
    first = FIRST_USER + random.randrange(100) * 100_000
    total = chats * per_chat
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        url = postgres_url("bench_webkill") if on_servers else sqlite_url(folder, "bench")
        engine = create_engine(url)
        await migrate(engine)
        # Wall-clock time on both, to compare with the workers' handled_at.
        async with BotAPIEmulator(clock=time.time) as emu:
            settings = make_settings(
                folder, telegram_api_base=emu.base_url, database_url=url,
                webhook_secret=SECRET, redis_url=REDIS_URL if on_servers else "",
            )  # fmt: skip
            env = bot_env(
                BOT_TOKEN=TOKEN, TELEGRAM_API_BASE=emu.base_url, DATABASE_URL=url,
                REDIS_URL=settings.redis_url, WEBHOOK_SECRET=SECRET,
                WEB_HOST="127.0.0.1", WEB_PORT="0", LOG_LEVEL="WARNING",
            )  # fmt: skip
            processes = list(
                await asyncio.gather(*(start_web_process(folder, env) for _ in range(workers)))
            )
            victim = processes[0]
            balancer = Balancer([p.address for p in processes], record=True, clock=time.time)
            await balancer.start()
            try:
                hook = balancer.address + settings.webhook_path()
                await webhook_command(settings.model_copy(update={"webhook_url": hook}), "set")
                for n in range(chats):
                    emu.user(first + n, first_name="Педагог")
                started = time.perf_counter()
                _send_dialogs(emu, first, chats, per_chat)
                killed_at = float("inf")
                if kill:
                    await emu.wait_pushes(total // 2, timeout=PATIENCE, status=200)
                    killed_at = time.time()
                    await victim.kill()
                    if workers == 1:  # nobody else to take the updates: systemd starts it again
                        again = {**env, "WEB_PORT": str(victim.port)}
                        processes[0] = await start_web_process(folder, again)
                await emu.wait_pushes(total, timeout=PATIENCE, status=200)  # all answered
                # An update answered 200 may still be on its way (aiogram answers after 55 s
                # and goes on in the background): the workers stop once it is done, or never.
                await _until_remembered(engine, total, within=LOCK_TIMEOUT + 30)
                elapsed = time.perf_counter() - started
            finally:
                emu.stop_pushing()
                await balancer.stop()
                for process in processes:
                    if process.process.returncode is None:
                        await process.stop()  # SIGTERM; a code other than 0 is printed
            ours = range(first, first + chats)
            replies = [
                call
                for call in emu.calls
                if call.method == "sendMessage" and call.ok and call.chat_id in ours
            ]
            updates = list(emu.updates)
            pushes = list(emu.pushes)
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    sa.select(handled_updates.c.update_id, handled_updates.c.handled_at)
                )
            ).all()
        await engine.dispose()

    chat_of = {update["update_id"]: _chat(update) for update in updates}
    remembered = {
        update_id: _epoch(at) for update_id, at in rows if update_id in chat_of
    }  # fmt: skip
    counts, unattributed = _replies_by_update(chat_of, remembered, replies)
    once = sum(1 for update_id in chat_of if counts[update_id] == 1)
    dup_replies = sum(count - 1 for count in counts.values() if count > 1)
    missing = sum(1 for update_id in chat_of if counts[update_id] == 0)
    per_chat_replies = Counter(call.chat_id for call in replies)
    steps_once = sum(1 for chat in ours if per_chat_replies[chat] == per_chat)
    by_chat: dict[int, list[int]] = defaultdict(list)
    for update_id, _ in sorted(remembered.items(), key=lambda item: item[1]):
        by_chat[chat_of[update_id]].append(update_id)
    in_order = sum(1 for ids in by_chat.values() if ids == sorted(ids))
    resent = sum(1 for _, status in pushes if status != 200)
    refusals = Counter(status for _, status in pushes if status != 200)
    why = ", ".join(f"{status or 'none'}: {n}" for status, n in sorted(refusals.items()))
    # The requests the kill caught: open at the killed worker when it died.
    caught = [
        e for e in balancer.exchanges
        if e.upstream == victim.address and e.started <= killed_at <= e.ended
    ]  # fmt: skip
    # Answered 200 before it was handled: the webhook handler answers empty after 55 s and goes
    # on in the background; the chat's next update is pushed then and may overtake it. An
    # update whose answer carried its reply was handled first (and remembered after).
    in_answers = {call.in_answer_to for call in replies if call.in_answer_to is not None}
    early = {
        e.update_id for e in balancer.exchanges
        if e.status == 200 and e.update_id is not None and e.update_id not in in_answers
        and remembered.get(e.update_id, float("inf")) > e.ended
    }  # fmt: skip
    slowest = _slowest(balancer.exchanges)
    shares = ", ".join(f"{address}: {n}" for address, n in sorted(balancer.sent.items()))

    print(f"{chats} chats × {per_chat} updates through {workers} web process(es) ({database})")
    print(f"{total} updates in {elapsed:.1f} s: {total / elapsed:.0f}/s")
    print(f"requests taken by worker (re-sends too): {shares}")
    if kill:
        print(
            f"killed {victim.address} after {total // 2} answers 200: {len(caught)} requests "
            f"in flight there; {balancer.failed} answered 502 (upstream died), "
            f"{balancer.skipped} connections refused (tried on the next upstream; 502 if none "
            f"took it); {resent} pushes re-sent after a non-200 or no answer ({why})"
        )
    print(
        f"replies in the answer to a push: {len(in_answers)} of {len(replies)}; steps answered "
        f"twice: {dup_replies}; never replied: {missing}; replies sent by a handler after the "
        f"chat's last remembered update: {unattributed}; answered 200 before handled (after "
        f"55 s): {len(early)}; longest from first push to 200: {slowest:.1f} s"
    )
    for process in processes:
        killed = process is victim and process.process.returncode == -signal.SIGKILL
        if (process.process.returncode and not killed) or "Traceback" in process.text():
            tail = "\n".join(line[:300] for line in list(process.log)[-12:])
            print(f"--- {process.address} (exit {process.process.returncode}), last lines:")
            print(tail)
    print(
        f"webhook: chats={chats} updates={total} workers={workers} killed={int(kill)} "
        f"order_ok={_share(in_order, chats)} handled_once={_share(once, total)} "
        f"steps_once={_share(steps_once, chats)} remembered={_share(len(remembered), total)} "
        f"resent={resent} dup_replies={dup_replies} "
        f"caught={len(caught)} early_200={len(early)} slowest_s={slowest:.1f} "
        f"updates_per_s={total / elapsed:.0f} database={database}"
    )


async def _until_remembered(engine: Database, count: int, within: float) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        async with engine.connect() as conn:
            found = await conn.execute(sa.select(sa.func.count()).select_from(handled_updates))
        if found.scalar_one() >= count:
            return
        await asyncio.sleep(0.5)


def _share(part: int, whole: int) -> str:
    """Rounded down: 4998 of 5000 is 0.999, never 1.000."""
    thousandths = part * 1000 // max(whole, 1)
    return f"{thousandths // 1000}.{thousandths % 1000:03d}"


def _chat(update: JSONDict) -> int:
    return int(update["message"]["chat"]["id"])


def _epoch(moment: datetime) -> float:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _replies_by_update(
    chat_of: dict[int, int], remembered: dict[int, float], replies: list[Call]
) -> tuple[Counter[int], int]:
    """Each reply put down to its update: the one whose answer carried it, or, for a reply a
    handler sent itself, the update the chat's worker remembered next (a handler replies, then
    OnceOnly remembers the update, one update of a chat at a time; a handling the kill cut after
    its reply remembered nothing, so its reply and the re-sent copy's both go to the copy's
    update). Also those replies after the chat's last remembered update (none expected)."""
    marks: dict[int, list[tuple[float, int]]] = defaultdict(list)
    for update_id, at in remembered.items():
        marks[chat_of[update_id]].append((at, update_id))
    for chat_marks in marks.values():
        chat_marks.sort()
    counts: Counter[int] = Counter()
    unattributed = 0
    for call in replies:
        if call.in_answer_to is not None:
            counts[call.in_answer_to] += 1
            continue
        chat_marks = marks.get(call.chat_id or 0, [])
        index = bisect.bisect_left(chat_marks, (call.at, -1))
        if index < len(chat_marks):
            counts[chat_marks[index][1]] += 1
        else:
            unattributed += 1
    return counts, unattributed


def _slowest(exchanges: list[Exchange]) -> float:
    """The longest an update took from its first push to its answer 200."""
    first: dict[int, float] = {}
    done: dict[int, float] = {}
    for exchange in exchanges:
        if exchange.update_id is None:
            continue
        first.setdefault(exchange.update_id, exchange.started)
        if exchange.status == 200:
            done[exchange.update_id] = exchange.ended
    return max((done[u] - first[u] for u in done), default=0.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--chats", type=int, default=500)
    parser.add_argument("--updates-per-chat", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--kill-one", action="store_true",
        help="web workers as processes (python -m bot web); SIGKILL one half-way",
    )  # fmt: skip
    parser.add_argument(
        "--sqlite", action="store_true", help="SQLite even when PostgreSQL and Redis answer"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    try:
        asyncio.run(
            run(
                args.chats, args.updates_per_chat, args.workers,
                kill=args.kill_one, sqlite=args.sqlite,
            )
        )  # fmt: skip
    finally:
        drop_scratch_databases()


if __name__ == "__main__":
    main()
