"""One broadcast through the real sender against an emulator that enforces Telegram's limits.

    python -m bench.broadcast --subscribers 10000 --limit 25
    python -m bench.broadcast --subscribers 1000 --limit 25 --kill-at 0.5
    python -m bench.broadcast --subscribers 20000 --limit 1000 --no-flood

This process runs the Bot API emulator on 127.0.0.1 (flood control: 30 messages a second
overall, one a second per chat, unless --no-flood), fills a temporary SQLite database with N
subscribers and creates one campaign (with a progress message for an editor). The production
`Sender` runs in a child process (bench/_sender.py), so its CPU time and memory are its own and
`--kill-at F` can `kill -9` it once F of the subscribers have their message; a second sender
process then finishes the campaign from the outbox.

Figures: the sustained rate between the first and the last message received (the restart gap
left out), its ratio to the configured limit, the 429s the emulator had to answer, duplicates
and losses counted per subscriber by the emulator, the sender's CPU milliseconds per message
and its peak RSS. The last line is one key=value summary:

    broadcast: subscribers=… rate=… limit=… rate_ratio=… http_429=… dup=… lost=…
        cpu_ms_per_msg=… peak_rss_mb=…

and with --kill-at a further one:

    broadcast_resume: dup=… lost=… in_flight_max=… unrecorded_at_kill=…

`unrecorded_at_kill` is what the emulator had received but the outbox had not recorded when
the first sender died: exactly the messages a restart sends a second time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import sqlalchemy as sa

from bot.content.models import Audience, CampaignKind, DeliveryStatus, MessagePart
from bot.storage.campaigns import SINGLE_VARIANT, CampaignRepository
from bot.storage.db import create_engine, migrate
from bot.storage.schema import deliveries, subscribers
from tests.support.emulator import BotAPIEmulator, Call

FIRST_CHAT = 1_000_000
EDITOR = 42
FLOOR_CHAT = 5_000_000
# The helper processes run as modules from the repository root, like this one.
REPO = Path(__file__).resolve().parents[1]
SENDER = "bench._sender"
FLOOR = "bench._floor"
TEXT = (
    "Инфозона: семинар для координаторов экспериментальных площадок — 15 марта, 10:00, "
    "ИМЦ, ауд. 12. Программа и регистрация — по ссылке."
)
ENTITIES = (
    {"type": "bold", "offset": 0, "length": 9},
    {"type": "text_link", "offset": 113, "length": 9, "url": "https://imc.example/seminar"},
)


@dataclass
class Watch:
    """Every successful sendMessage the emulator answers, per chat, with timestamps."""

    n: int
    kill_at: float | None = None
    pid: int | None = None
    per_chat: Counter[int] = field(default_factory=Counter)
    times: list[list[float]] = field(default_factory=lambda: [[]])  # one list per sender run
    killed_at_unique: int | None = None
    http_429: int = 0

    def __call__(self, call: Call) -> bool:
        if call.method != "sendMessage":
            return False
        if not call.ok:
            if call.response.get("error_code") == 429:
                self.http_429 += 1
            return False
        chat = call.chat_id
        if chat is None or not FIRST_CHAT <= chat < FIRST_CHAT + self.n:
            return False  # the editor's progress message, the floor's messages
        self.per_chat[chat] += 1
        self.times[-1].append(call.at)
        unique = len(self.per_chat)
        if (
            self.kill_at is not None
            and self.killed_at_unique is None
            and self.pid is not None
            and unique >= self.kill_at * self.n
        ):
            os.kill(self.pid, signal.SIGKILL)  # right now, between two answers
            self.killed_at_unique = unique
        return False

    @property
    def received(self) -> int:
        return sum(self.per_chat.values())


async def prepare(url: str, n: int) -> int:
    engine = create_engine(url)
    await migrate(engine)
    now = datetime.now(UTC)
    rows = [
        {
            "chat_id": FIRST_CHAT + i,
            "name": f"Педагог {i}",
            "role": "teacher",
            "org_kind": "school",
            "topics": "announcements,cases,events,materials",
            "frequency": "weekly",
            "status": "active",
            "created_at": now,
            "updated_at": now,
            "onboarded_at": now,
        }
        for i in range(n)
    ]
    async with engine.begin() as conn:
        for start in range(0, n, 5000):
            await conn.execute(subscribers.insert(), rows[start : start + 5000])
    campaign = await CampaignRepository(engine).create(
        "post:bench",
        CampaignKind.POST,
        "Семинар для координаторов",
        {SINGLE_VARIANT: [MessagePart(TEXT, ENTITIES)]},
        Audience(),
        progress_chat_id=EDITOR,
    )
    await engine.dispose()
    assert campaign is not None and campaign.total == n
    return campaign.id


async def outbox_counts(url: str, campaign_id: int) -> Counter[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                sa.select(deliveries.c.status, sa.func.count())
                .where(deliveries.c.campaign_id == campaign_id)
                .group_by(deliveries.c.status)
            )
            return Counter(dict(rows.all()))
    finally:
        await engine.dispose()


class Killable(Protocol):
    """What watches a sender process so it can kill it mid-run (Watch here, Storm in faults)."""

    pid: int | None


def _received_note(watch: Watch) -> Callable[[dict[str, Any]], str]:
    return lambda last: (
        f"  … {watch.received} received, {last['elapsed']:.0f} s, cpu {last['cpu_s']:.1f} s"
    )


async def run_sender(
    args: argparse.Namespace,
    api: str,
    url: str,
    watcher: Killable,
    note: Callable[[dict[str, Any]], str],
    every: float = 10.0,
) -> dict[str, Any]:
    """One sender process until it exits (or is killed); its last figures. Every `every`
    seconds `note` of its latest figures goes to stderr."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", SENDER, "--database-url", url, "--api", api, "--rate", str(args.limit)),
        stdout=asyncio.subprocess.PIPE,
        cwd=REPO,
    )
    watcher.pid = process.pid
    last: dict[str, Any] = {}
    assert process.stdout is not None
    next_note = time.monotonic() + every
    async for line in process.stdout:
        last = json.loads(line)
        if time.monotonic() >= next_note:
            next_note += every
            print(note(last), file=sys.stderr, flush=True)
    code = await process.wait()
    watcher.pid = None
    last["returncode"] = code
    return last


async def run_floor(args: argparse.Namespace, api: str) -> dict[str, float] | None:
    """Bare aiogram sends at the same rate: CPU ms a message, peak RSS (None: --no-floor)."""
    count = min(args.subscribers, int(args.limit * args.floor_seconds))
    if args.no_floor or count < 10:
        return None
    message = json.dumps({"text": TEXT, "entities": list(ENTITIES)}, ensure_ascii=False)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", FLOOR),
        *("--api", api, "--rate", str(args.limit), "--count", str(count)),
        *("--first-chat", str(FLOOR_CHAT), "--message", message),
        stdout=asyncio.subprocess.PIPE,
        cwd=REPO,
    )
    out, _ = await process.communicate()
    figures: dict[str, float] = json.loads(out)
    return figures


def sustained_rate(runs: list[list[float]]) -> float:
    messages = sum(max(0, len(times) - 1) for times in runs)
    seconds = sum(times[-1] - times[0] for times in runs if len(times) > 1)
    return messages / seconds if seconds > 0 else 0.0


async def main(args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="bench-broadcast-"))
    url = f"sqlite+aiosqlite:///{workdir}/bench.db"
    campaign_id = await prepare(url, args.subscribers)
    emu = BotAPIEmulator(strict_chats=False, keep_calls=False)
    if not args.no_flood:
        emu.set_flood_control(global_per_sec=30, per_chat_per_sec=1)
    api = await emu.start("127.0.0.1", 0)
    watch = Watch(args.subscribers, args.kill_at)
    # The emulator shows every call to a waiter's predicate: that is the bench's tap.
    tap = asyncio.create_task(emu.wait_for(watch, timeout=24 * 3600, after=0))
    usage0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        first = await run_sender(args, api, url, watch, _received_note(watch))
        figures = [first]
        unrecorded = 0
        if args.kill_at is not None:
            if first["returncode"] != -signal.SIGKILL:
                raise SystemExit(f"the sender was not killed: {first}")
            await asyncio.sleep(0.5)  # requests already on the wire reach the emulator
            recorded = (await outbox_counts(url, campaign_id))[DeliveryStatus.SENT.value]
            unrecorded = watch.received - recorded
            watch.times.append([])
            figures.append(await run_sender(args, api, url, watch, _received_note(watch)))
        await asyncio.sleep(0.2)
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # the sender processes only
        floor = await run_floor(args, api)
    finally:
        tap.cancel()
        await emu.stop()

    counts = await outbox_counts(url, campaign_id)
    expected = range(FIRST_CHAT, FIRST_CHAT + args.subscribers)
    dup = sum(max(0, watch.per_chat[c] - 1) for c in expected)
    lost = sum(1 for c in expected if watch.per_chat[c] == 0)
    rate = sustained_rate(watch.times)
    messages = sum(f.get("messages", 0) for f in figures)
    cpu_s = sum(f.get("cpu_s", 0.0) for f in figures)
    cpu_ms = 1000 * cpu_s / messages if messages else float("nan")
    peak_rss_mb = max(f.get("peak_rss_mb", 0.0) for f in figures)
    child_cpu_total = (usage.ru_utime - usage0.ru_utime) + (usage.ru_stime - usage0.ru_stime)
    final = figures[-1]
    if args.keep:
        print(f"database: {workdir}/bench.db")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"outbox: {dict(counts)}")
    print(
        f"received {watch.received} messages by {len(watch.per_chat)} subscribers; "
        f"emulator 429s {emu.flood_rejections}; sender RetryAfter "
        f"{sum(f.get('retry_after', 0) for f in figures)}; progress edits "
        f"{sum(f.get('progress_edits', 0) for f in figures)}"
    )
    print(
        f"sender: {messages} sendMessage calls, cpu {cpu_s:.2f} s while sending "
        f"({child_cpu_total:.2f} s with interpreter start-up), "
        f"{sum(f.get('flushes', 0) for f in figures)} result batches, "
        f"in flight at most {max(f.get('in_flight_max', 0) for f in figures)}, "
        f"unrecorded at most {max(f.get('window_max', 0) for f in figures)}"
    )
    print(f"elapsed: {', '.join(str(f.get('elapsed')) + ' s' for f in figures)}")
    if counts[DeliveryStatus.SENT.value] != args.subscribers or final.get("returncode") != 0:
        print(f"WARNING: the outbox is not fully sent or the sender failed: {final}")
    floor_cpu = floor["cpu_ms_per_msg"] if floor is not None else None
    if floor is not None and floor_cpu is not None:
        print(
            f"floor: bare aiogram send_message at {args.limit:g}/s costs {floor_cpu:.3f} ms "
            f"CPU a message here (the sender {cpu_ms / floor_cpu:.2f}× that); a process that "
            f"only imports and sends peaks at {floor['peak_rss_mb']:.1f} MB"
        )
    print(
        f"broadcast: subscribers={args.subscribers} rate={rate:.2f} limit={args.limit:g} "
        f"rate_ratio={rate / args.limit:.3f} http_429={watch.http_429} dup={dup} lost={lost} "
        f"cpu_ms_per_msg={cpu_ms:.3f} peak_rss_mb={peak_rss_mb:.1f}"
        + (f" floor_cpu_ms_per_msg={floor_cpu:.3f}" if floor_cpu is not None else "")
    )
    if args.kill_at is not None:
        in_flight_max = max(f.get("window_max", 0) for f in figures)
        print(
            f"broadcast_resume: dup={dup} lost={lost} in_flight_max={in_flight_max} "
            f"unrecorded_at_kill={unrecorded}"
        )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--limit", type=float, default=25, help="SEND_RATE, messages a second")
    parser.add_argument(
        "--kill-at", type=float, help="kill -9 the sender at this share received, then resume"
    )
    parser.add_argument(
        "--no-flood", action="store_true", help="no flood control (paid-broadcast speed)"
    )
    parser.add_argument(
        "--floor-seconds", type=float, default=20, help="length of the bare-aiogram floor run"
    )
    parser.add_argument("--no-floor", action="store_true", help="skip the floor run")
    parser.add_argument("--keep", action="store_true", help="keep the temporary database")
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
