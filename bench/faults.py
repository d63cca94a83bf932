"""A broadcast through a storm of Telegram faults, with a kill -9 of the sender in the middle.

    python -m bench.faults
    python -m bench.faults --subscribers 3000 --outage 90 --limit 25

This process runs the Bot API emulator on 127.0.0.1 with Telegram's flood limits (30 messages
a second overall, one a second per chat), fills a temporary SQLite database with N subscribers
and creates one post campaign. The production `Sender` runs in a child process
(bench/_sender.py, production settings: SEND_RATE --limit, SEND_MAX_ATTEMPTS 5, the real
backoff). As the share of subscribers reached grows, the emulator is scripted to answer:

     5 %  connection resets (before the request is processed) to 20 chats ahead
    10 %  5 hangs: requests never answered, until the client's own timeout (aiogram's 60 s)
    15 %  a 429 with a large retry_after (--retry-after, 30 s), not provoked by the rate
    20 %  JSON 5xx: a 500 to 30 chats ahead, a 502 twice to 20 more
    25 %  5 s of JSON 502 to every request
    35 %  nginx's HTML 502 page instead of Bot API JSON: to 40 chats, twice to 10 more
    45 %  kill -9 of the sender process; a new one is started and finishes the campaign
    60 %  an outage: every request gets the HTML 502 page for --outage seconds (90)

Figures, counted from the emulator's record and the database: `deliveries` (rows of the
campaign), `lost` (subscribers who never got the post), `dup` (extra copies received),
`dup_bound` (what the restarted sender itself reported at its start as deliveries left going
out unrecorded by the killed one: runtime_status "unrecorded_at_restart"), and
`http_429_provoked` (429s the emulator's flood control gave: the sender's own rate; the
scripted 429 is not counted). The last line:

    faults: deliveries=… lost=0 dup=… dup_bound=… http_429_provoked=0
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench.broadcast import FIRST_CHAT, outbox_counts, prepare, run_sender
from bot.content.models import DeliveryStatus
from bot.storage.db import create_engine
from bot.storage.outbox import UNRECORDED_AT_RESTART, OutboxRepository
from bot.storage.schema import deliveries
from tests.support.emulator import BotAPIEmulator, Call

METHOD = "sendMessage"


@dataclass
class Storm:
    """Watches every call the emulator answers and fires the scripted faults on the way."""

    emu: BotAPIEmulator
    n: int
    outage: float
    retry_after: int
    pid: int | None = None
    per_chat: Counter[int] = field(default_factory=Counter)
    answers: Counter[str] = field(default_factory=Counter)  # failed sends by kind
    fired: list[str] = field(default_factory=list)
    killed_at: int | None = None
    steps: list[tuple[float, str, Callable[[], None]]] = field(default_factory=list)
    targeted: set[int] = field(default_factory=set)

    def __post_init__(self) -> None:
        emu = self.emu

        def resets() -> None:
            for chat in self.ahead(20):
                emu.reset_next(METHOD, chat_id=chat)

        def hangs() -> None:
            for chat in self.ahead(5, step=17):
                emu.hang_next(METHOD, chat_id=chat)

        def json_5xx() -> None:
            for chat in self.ahead(30):
                emu.fail_next(METHOD, status=500, chat_id=chat)
            for chat in self.ahead(20, step=13, offset=7):
                emu.fail_next(METHOD, status=502, chat_id=chat, times=2)

        def html_pages() -> None:
            for chat in self.ahead(40):
                emu.fail_next(METHOD, status=502, html_page=True, chat_id=chat)
            for chat in self.ahead(10, step=23, offset=11):
                emu.fail_next(METHOD, status=502, html_page=True, chat_id=chat, times=2)

        self.steps = [
            (0.05, "connection resets to 20 chats", resets),
            (0.10, "5 hangs", hangs),
            (
                0.15,
                f"a 429 with retry_after={self.retry_after}",
                lambda: emu.fail_next(METHOD, status=429, retry_after=self.retry_after),
            ),
            (0.20, "JSON 500 to 30 chats, 502 twice to 20", json_5xx),
            (0.25, "5 s of JSON 502 to everyone", lambda: emu.outage(5, status=502)),
            (0.35, "nginx's HTML 502 page to 40 chats, twice to 10", html_pages),
            (0.45, "a kill -9 of the sender", self._kill),
            (
                0.60,
                f"an outage of {self.outage:g} s (HTML 502 pages to everything)",
                lambda: emu.outage(self.outage, html_page=True),
            ),
        ]

    def ahead(self, count: int, *, step: int = 7, offset: int = 40) -> list[int]:
        """Chats the sender has not reached yet, spread out (it goes in subscriber order)."""
        first = FIRST_CHAT + len(self.per_chat) + offset
        last = FIRST_CHAT + self.n
        # Each chat is picked once: a chat scripted to fail more often than SEND_MAX_ATTEMPTS
        # allows is given up by design, which is not what this bench is about.
        chats = [c for c in range(first, last, step) if c not in self.targeted][:count]
        self.targeted.update(chats)
        return chats

    def __call__(self, call: Call) -> bool:
        if call.method != METHOD:
            return False
        chat = call.chat_id
        if chat is None or not FIRST_CHAT <= chat < FIRST_CHAT + self.n:
            return False  # the editor's progress message
        if not call.ok:
            code = call.response.get("error_code")
            self.answers[str(call.response.get("description")) if code == 0 else str(code)] += 1
            return False
        self.per_chat[chat] += 1
        while self.steps and len(self.per_chat) >= self.steps[0][0] * self.n:
            _, name, action = self.steps.pop(0)
            print(f"  {len(self.per_chat)} reached: {name}", file=sys.stderr, flush=True)
            self.fired.append(name)
            action()
        return False

    def _kill(self) -> None:
        if self.pid is not None:
            os.kill(self.pid, signal.SIGKILL)  # right now, between two answers
            self.killed_at = len(self.per_chat)


def _storm_note(storm: Storm) -> Callable[[dict[str, Any]], str]:
    return lambda last: (
        f"  … {len(storm.per_chat)} reached, {sum(storm.answers.values())} faults answered, "
        f"{last['elapsed']:.0f} s"
    )


async def marked_now(url: str, campaign_id: int) -> int:
    """Rows marked as going out, as the killed sender left them (read before the restart)."""
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            query = (
                sa.select(sa.func.count())
                .select_from(deliveries)
                .where(
                    deliveries.c.campaign_id == campaign_id,
                    deliveries.c.status == DeliveryStatus.PENDING.value,
                    deliveries.c.sending_at.is_not(None),
                )
            )
            return int((await conn.execute(query)).scalar_one())
    finally:
        await engine.dispose()


async def reported_bound(url: str) -> int | None:
    engine = create_engine(url)
    try:
        value = await OutboxRepository(engine).status_value(UNRECORDED_AT_RESTART)
    finally:
        await engine.dispose()
    return None if value is None else int(value[0])


async def main(args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="bench-faults-"))
    url = f"sqlite+aiosqlite:///{workdir}/bench.db"
    campaign_id = await prepare(url, args.subscribers)
    emu = BotAPIEmulator(strict_chats=False, keep_calls=False)
    emu.set_flood_control(global_per_sec=30, per_chat_per_sec=1)
    api = await emu.start("127.0.0.1", 0)
    storm = Storm(emu, args.subscribers, args.outage, args.retry_after)
    # The emulator shows every call to a waiter's predicate: that is the bench's tap.
    tap = asyncio.create_task(emu.wait_for(storm, timeout=24 * 3600, after=0))
    started = time.monotonic()
    runs: list[dict[str, Any]] = []
    left_marked = None
    try:
        runs.append(await run_sender(args, api, url, storm, _storm_note(storm), every=15))
        if runs[0]["returncode"] != -signal.SIGKILL:
            raise SystemExit(f"the sender was not killed: {runs[0]}")
        await asyncio.sleep(0.5)  # requests already on the wire reach the emulator
        left_marked = await marked_now(url, campaign_id)
        runs.append(await run_sender(args, api, url, storm, _storm_note(storm), every=15))
        await asyncio.sleep(0.2)
    finally:
        if storm.pid is not None:  # interrupted: leave no sender behind
            os.kill(storm.pid, signal.SIGKILL)
        tap.cancel()
        await emu.stop()
    elapsed = time.monotonic() - started

    counts = await outbox_counts(url, campaign_id)
    dup_bound = await reported_bound(url)
    if args.keep:
        print(f"database: {workdir}/bench.db")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    expected = range(FIRST_CHAT, FIRST_CHAT + args.subscribers)
    dup = sum(max(0, storm.per_chat[c] - 1) for c in expected)
    lost = sum(1 for c in expected if storm.per_chat[c] == 0)
    scripted_429 = storm.answers["429"] - emu.flood_rejections
    print(f"storm: {'; '.join(storm.fired)}")
    print(f"faults answered to sends: {dict(storm.answers)} (scripted 429s: {scripted_429})")
    print(
        f"killed at {storm.killed_at} reached; the killed sender left {left_marked} deliveries "
        f"marked as going out; the restarted one reported {dup_bound}"
    )
    print(f"outbox: {dict(counts)}")
    print(
        "senders: "
        + "; ".join(
            f"exit {r.get('returncode')}, {r.get('messages')} sent, {r.get('retry_after')} "
            f"RetryAfter, {r.get('elapsed')} s"
            for r in runs
        )
        + f"; {elapsed:.0f} s in all"
    )
    deliveries_total = sum(counts.values())
    if counts[DeliveryStatus.SENT.value] != args.subscribers or runs[-1].get("returncode") != 0:
        print(f"WARNING: the outbox is not fully sent or the sender failed: {runs[-1]}")
    print(
        f"faults: deliveries={deliveries_total} lost={lost} dup={dup} "
        f"dup_bound={dup_bound if dup_bound is not None else 'unknown'} "
        f"http_429_provoked={emu.flood_rejections}"
    )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=3000)
    parser.add_argument("--limit", type=float, default=25, help="SEND_RATE, messages a second")
    parser.add_argument(
        "--outage", type=float, default=90, help="seconds every request fails (HTML 502)"
    )
    parser.add_argument(
        "--retry-after", type=int, default=30, help="the scripted 429's retry_after, seconds"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary database")
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
