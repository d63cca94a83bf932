"""One broadcast through the real sender against an emulator that enforces Telegram's limits.

    python -m bench.broadcast --subscribers 10000 --limit 25
    python -m bench.broadcast --subscribers 1000 --limit 25 --kill-at 0.5
    python -m bench.broadcast --subscribers 20000 --limit 1000 --no-flood
    python -m bench.broadcast --subscribers 20000 --limit 1000 --no-flood --digest

This process runs the Bot API emulator on 127.0.0.1 (flood control: 30 messages a second
overall, one a second per chat, unless --no-flood), fills a temporary SQLite database with N
subscribers and creates one campaign (with a progress message for an editor). The production
`Sender` runs in a child process (bench/_sender.py), so its CPU time and memory are its own and
`--kill-at F` can `kill -9` it once F of the subscribers have their message; a second sender
process then finishes the campaign from the outbox.

The floor is bare aiogram (bench/_floor.py, a process that imports aiogram and nothing of
`bot`) sending the same message at the same rate through the same emulator, with at most as
many requests in flight as the sender allows itself. It runs interleaved with the sender, in
--rounds rounds: each time another 1/R of the subscribers have their message the sender process
is stopped (SIGSTOP: it is not running, its clock just jumps, its rate limiter does not burst
afterwards), the floor sends its slice (--floor-share × N messages in all, in R equal slices),
and the sender continues (SIGCONT); the last slice follows the sender's end. So both see the
same machine in the same minutes.

Figures: the sustained rate between the first and the last message received (pauses and the
restart gap left out), its ratio to the configured limit, the 429s the emulator had to answer
the sender, duplicates and losses counted per subscriber by the emulator, the sender's CPU
milliseconds per message and its peak RSS, the floor's CPU per message and peak RSS, and both
ratios (per round too). The last line is one key=value summary:

    broadcast: subscribers=… rate=… limit=… rate_ratio=… http_429=… dup=… lost=…
        cpu_ms_per_msg=… peak_rss_mb=… floor_cpu_ms_per_msg=… floor_peak_rss_mb=…
        cpu_ratio=… rss_ratio=…

and with --kill-at a further one:

    broadcast_resume: dup=… lost=… in_flight_max=… unrecorded_at_kill=…

`unrecorded_at_kill` is what the emulator had received but the outbox had not recorded when
the first sender died: exactly the messages a restart sends a second time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
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
from math import nan
from pathlib import Path
from typing import Any, Protocol

import sqlalchemy as sa

from bot.content.models import (
    Audience,
    Button,
    ButtonAction,
    CampaignKind,
    DeliveryStatus,
    MessagePart,
)
from bot.storage.campaigns import SINGLE_VARIANT, CampaignRepository
from bot.storage.db import create_engine, migrate
from bot.storage.schema import deliveries, subscribers
from bot.telegram.transport import PAID_BROADCAST_RATE
from tests.support.emulator import BotAPIEmulator, Call
from tests.support.subscribers import onboarded_row

FIRST_CHAT = 1_000_000
EDITOR = 42
FLOOR_CHAT = 5_000_000
# The helper processes run as modules from the repository root, like this one.
REPO = Path(__file__).resolve().parents[1]
SENDER = "bench._sender"
FLOOR = "bench._floor"
SETTLE = 1.0  # seconds between the sender's pause and the floor's slice
TEXT = (
    "Инфозона: семинар для координаторов экспериментальных площадок — 15 марта, 10:00, "
    "ИМЦ, ауд. 12. Программа и регистрация — по ссылке."
)
ENTITIES = (
    {"type": "bold", "offset": 0, "length": 9},
    {"type": "text_link", "offset": 113, "length": 9, "url": "https://imc.example/seminar"},
)
# --digest: the same text as a digest's message — its title a link into the bot, «Напомнить»,
# «Настройки» and «Пауза» under it, a picture as the preview — sent by the sender and the floor
# alike (the floor with the link and the buttons as the transport makes them).
BOT_USERNAME = "infozona_test_bot"  # the emulator's
PICTURE = "https://imc.example/seminar.jpg"
DIGEST_PART = MessagePart(
    TEXT,
    ({"type": "bold", "offset": 0, "length": 9},
     {"type": "bot_link", "offset": 10, "length": 7, "payload": "item_12"}),
    buttons=((Button("⏰ Напомнить: Семинар для координаторов", ButtonAction.REMIND, 12),),
             (Button("⚙️ Настройки", ButtonAction.SETTINGS),
              Button("⏸ Пауза", ButtonAction.PAUSE))),
    preview_url=PICTURE,
)  # fmt: skip
DIGEST_WIRE = {
    "text": TEXT,
    "entities": [
        {"type": "bold", "offset": 0, "length": 9},
        {"type": "text_link", "offset": 10, "length": 7,
         "url": f"https://t.me/{BOT_USERNAME}?start=item_12"},
    ],
    "reply_markup": {"inline_keyboard": [
        [{"text": "⏰ Напомнить: Семинар для координаторов", "callback_data": "m1:12"}],
        [{"text": "⚙️ Настройки", "callback_data": "dg1:s"},
         {"text": "⏸ Пауза", "callback_data": "dg1:p"}],
    ]},
    "link_preview": {"is_disabled": False, "url": PICTURE, "prefer_large_media": True,
                     "show_above_text": True},
}  # fmt: skip


@dataclass
class Watch:
    """Every successful sendMessage the emulator answers, per chat, with timestamps."""

    n: int
    kill_at: float | None = None
    pid: int | None = None
    per_chat: Counter[int] = field(default_factory=Counter)
    times: list[list[float]] = field(default_factory=lambda: [[]])  # one list per sender run
    killed_at_unique: int | None = None
    http_429: int = 0  # answered to the sender (its subscribers' and the editor's messages)
    floor_429: int = 0
    pause_at: list[int] = field(default_factory=list)  # subscribers reached, ascending
    stopped: int | None = None  # the pid of the sender process while it is paused
    paused: asyncio.Event = field(default_factory=asyncio.Event)

    def __call__(self, call: Call) -> bool:
        if call.method != "sendMessage":
            return False
        chat = call.chat_id
        if not call.ok:
            if call.response.get("error_code") == 429:
                if chat is not None and chat >= FLOOR_CHAT - 1:
                    self.floor_429 += 1
                else:
                    self.http_429 += 1
            return False
        if chat is None or not FIRST_CHAT <= chat < FIRST_CHAT + self.n:
            return False  # the editor's progress message, the floor's messages
        self.per_chat[chat] += 1
        self.times[-1].append(call.at)
        unique = len(self.per_chat)
        if self.pid is None or self.stopped is not None:
            return False  # answers to requests sent before the pause: nothing to do yet
        if (
            self.kill_at is not None
            and self.killed_at_unique is None
            and unique >= self.kill_at * self.n
        ):
            os.kill(self.pid, signal.SIGKILL)  # right now, between two answers
            self.killed_at_unique = unique
        elif self.pause_at and unique >= self.pause_at[0]:
            del self.pause_at[0]
            os.kill(self.pid, signal.SIGSTOP)  # the floor's turn
            self.stopped = self.pid
            self.paused.set()
        return False

    def resume(self) -> None:
        if self.stopped is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.stopped, signal.SIGCONT)
            self.stopped = None

    @property
    def received(self) -> int:
        return sum(self.per_chat.values())


async def prepare(url: str, n: int, digest: bool = False) -> int:
    engine = create_engine(url)
    await migrate(engine)
    now = datetime.now(UTC)
    rows = [onboarded_row(FIRST_CHAT + i, f"Педагог {i}", now) for i in range(n)]
    async with engine.begin() as conn:
        for start in range(0, n, 5000):
            await conn.execute(subscribers.insert(), rows[start : start + 5000])
    campaign = await CampaignRepository(engine).create(
        "post:bench",
        CampaignKind.POST,
        "Семинар для координаторов",
        {SINGLE_VARIANT: [DIGEST_PART if digest else MessagePart(TEXT, ENTITIES)]},
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
    on_report: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """One sender process until it exits (or is killed); its last figures. Every `every`
    seconds `note` of its latest figures goes to stderr; `on_report` sees every line."""
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
        if on_report is not None:
            on_report(last)
        if time.monotonic() >= next_note:
            next_note += every
            print(note(last), file=sys.stderr, flush=True)
    code = await process.wait()
    watcher.pid = None
    last["returncode"] = code
    return last


@dataclass
class Tally:
    """The sender's CPU and messages since the last floor slice, from its report lines."""

    cpu_s: float = 0.0
    messages: int = 0
    max_in_flight: int | None = None

    def process(self) -> Callable[[dict[str, Any]], None]:
        """The `on_report` of one sender process (its totals start at zero)."""
        previous = {"cpu_s": 0.0, "messages": 0}

        def seen(line: dict[str, Any]) -> None:
            self.cpu_s += line["cpu_s"] - previous["cpu_s"]
            self.messages += line["messages"] - previous["messages"]
            previous.update(cpu_s=line["cpu_s"], messages=line["messages"])
            self.max_in_flight = line.get("max_in_flight", self.max_in_flight)

        return seen

    def take(self) -> tuple[float, int]:
        taken = (self.cpu_s, self.messages)
        self.cpu_s, self.messages = 0.0, 0
        return taken


@dataclass
class Round:
    sender_cpu_s: float
    sender_messages: int
    floor_cpu_s: float
    floor_messages: int

    @property
    def sender_ms(self) -> float:
        return 1000 * self.sender_cpu_s / self.sender_messages if self.sender_messages else nan

    @property
    def floor_ms(self) -> float:
        return 1000 * self.floor_cpu_s / self.floor_messages if self.floor_messages else nan


class Floor:
    """The bare-aiogram process (bench/_floor.py), sending a slice when asked."""

    def __init__(self, process: asyncio.subprocess.Process, slices: list[int]) -> None:
        self.process = process
        self.slices = slices  # messages of each slice still to send
        self.last: dict[str, Any] = {"messages": 0, "cpu_s": 0.0}

    @classmethod
    async def start(cls, args: argparse.Namespace, api: str) -> Floor | None:
        """None with --no-floor or a floor too small to mean anything."""
        total = round(args.subscribers * args.floor_share)
        if args.no_floor or total < 10 * args.rounds:
            return None
        wire = DIGEST_WIRE if args.digest else {"text": TEXT, "entities": list(ENTITIES)}
        message = json.dumps(wire, ensure_ascii=False)
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            *("-m", FLOOR, "--api", api, "--rate", str(args.limit)),
            *("--first-chat", str(FLOOR_CHAT), "--message", message),
            *(("--paid",) if args.limit > PAID_BROADCAST_RATE else ()),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            cwd=REPO,
        )
        floor = cls(process, [total // args.rounds] * args.rounds)
        floor.slices[-1] += total % args.rounds
        ready = await floor._line()
        assert ready.get("ready"), ready
        return floor

    async def _line(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = await self.process.stdout.readline()
        if not line:
            raise SystemExit(f"the floor process ended: {await self.process.wait()}")
        figures: dict[str, Any] = json.loads(line)
        return figures

    async def send_slice(self, cap: int) -> tuple[float, int]:
        """The next slice, at most `cap` requests in flight: its CPU seconds and messages."""
        assert self.process.stdin is not None
        count = self.slices.pop(0)
        before = self.last
        self.process.stdin.write(f"{count} {cap}\n".encode())
        await self.process.stdin.drain()
        self.last = await self._line()
        return self.last["cpu_s"] - before["cpu_s"], self.last["messages"] - before["messages"]

    async def close(self) -> None:
        if self.process.returncode is None:
            assert self.process.stdin is not None
            self.process.stdin.close()
            await self.process.wait()


async def floor_rounds(watch: Watch, floor: Floor, tally: Tally, rounds: list[Round]) -> None:
    """Each time the Watch pauses the sender: the floor's slice, then the sender goes on."""
    while floor.slices:
        await watch.paused.wait()
        watch.paused.clear()
        try:
            # Answers to what was in flight land, and the emulator's 1-second flood window
            # forgets the sender, before the floor starts.
            await asyncio.sleep(SETTLE)
            await run_slice(floor, tally, rounds)
        finally:
            watch.times.append([])
            watch.resume()


async def run_slice(floor: Floor, tally: Tally, rounds: list[Round]) -> None:
    sender_cpu_s, sender_messages = tally.take()
    assert tally.max_in_flight is not None, "the sender reports its cap as it starts"
    floor_cpu_s, floor_messages = await floor.send_slice(tally.max_in_flight)
    rounds.append(Round(sender_cpu_s, sender_messages, floor_cpu_s, floor_messages))
    r = rounds[-1]
    print(
        f"  round {len(rounds)}: sender {r.sender_ms:.3f} ms CPU a message "
        f"({r.sender_messages}), floor {r.floor_ms:.3f} ms ({r.floor_messages}), "
        f"{r.sender_ms / r.floor_ms:.2f}×",
        file=sys.stderr,
        flush=True,
    )


def sustained_rate(runs: list[list[float]]) -> float:
    messages = sum(max(0, len(times) - 1) for times in runs)
    seconds = sum(times[-1] - times[0] for times in runs if len(times) > 1)
    return messages / seconds if seconds > 0 else 0.0


async def main(args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="bench-broadcast-"))
    url = f"sqlite+aiosqlite:///{workdir}/bench.db"
    campaign_id = await prepare(url, args.subscribers, args.digest)
    emu = BotAPIEmulator(strict_chats=False, keep_calls=False, bot_username=BOT_USERNAME)
    if not args.no_flood:
        emu.set_flood_control(global_per_sec=30, per_chat_per_sec=1)
    api = await emu.start("127.0.0.1", 0)
    watch = Watch(args.subscribers, args.kill_at)
    # The emulator shows every call to a waiter's predicate: that is the bench's tap.
    tap = asyncio.create_task(emu.wait_for(watch, timeout=24 * 3600, after=0))
    usage0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    tally = Tally()
    rounds: list[Round] = []
    floor = await Floor.start(args, api)  # started and warm before the sender starts
    interleave = None
    if floor is not None:
        step = args.subscribers / args.rounds
        watch.pause_at = [max(1, round(k * step)) for k in range(1, args.rounds)]
        interleave = asyncio.create_task(floor_rounds(watch, floor, tally, rounds))
    started = time.monotonic()
    try:

        async def sender() -> dict[str, Any]:
            note = _received_note(watch)
            return await run_sender(args, api, url, watch, note, on_report=tally.process())

        first = await sender()
        figures = [first]
        unrecorded = 0
        if args.kill_at is not None:
            if first["returncode"] != -signal.SIGKILL:
                raise SystemExit(f"the sender was not killed: {first}")
            await asyncio.sleep(0.5)  # requests already on the wire reach the emulator
            recorded = (await outbox_counts(url, campaign_id))[DeliveryStatus.SENT.value]
            unrecorded = watch.received - recorded
            watch.times.append([])
            figures.append(await sender())
        await asyncio.sleep(0.2)
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # the sender processes only
        elapsed = time.monotonic() - started
        if interleave is not None:
            interleave.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await interleave
        if floor is not None:
            watch.pause_at.clear()
            while floor.slices:  # the last slice (more if the sender skipped a pause)
                await asyncio.sleep(SETTLE)
                await run_slice(floor, tally, rounds)
    finally:
        watch.resume()
        if watch.pid is not None:  # interrupted: leave no sender behind
            os.kill(watch.pid, signal.SIGKILL)
        if floor is not None:
            await floor.close()
        tap.cancel()
        await emu.stop()

    counts = await outbox_counts(url, campaign_id)
    expected = range(FIRST_CHAT, FIRST_CHAT + args.subscribers)
    dup = sum(max(0, watch.per_chat[c] - 1) for c in expected)
    lost = sum(1 for c in expected if watch.per_chat[c] == 0)
    rate = sustained_rate(watch.times)
    messages = sum(f.get("messages", 0) for f in figures)
    cpu_s = sum(f.get("cpu_s", 0.0) for f in figures)
    cpu_ms = 1000 * cpu_s / messages if messages else nan
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
        f"emulator 429s {emu.flood_rejections} (to the floor {watch.floor_429}); sender "
        f"RetryAfter {sum(f.get('retry_after', 0) for f in figures)}; progress edits "
        f"{sum(f.get('progress_edits', 0) for f in figures)}"
    )
    print(
        f"sender: {messages} sendMessage calls, cpu {cpu_s:.2f} s while sending "
        f"({child_cpu_total:.2f} s with interpreter start-up), "
        f"{sum(f.get('flushes', 0) for f in figures)} result batches, "
        f"in flight at most {max(f.get('in_flight_max', 0) for f in figures)} "
        f"(cap {tally.max_in_flight}), "
        f"unrecorded at most {max(f.get('window_max', 0) for f in figures)}"
    )
    print(
        f"elapsed: {', '.join(str(f.get('elapsed')) + ' s' for f in figures)} "
        f"(with the floor's turns; {elapsed:.0f} s from the first sender's start)"
    )
    if counts[DeliveryStatus.SENT.value] != args.subscribers or final.get("returncode") != 0:
        print(f"WARNING: the outbox is not fully sent or the sender failed: {final}")
    summary = (
        f"broadcast: subscribers={args.subscribers} rate={rate:.2f} limit={args.limit:g} "
        f"rate_ratio={rate / args.limit:.3f} http_429={watch.http_429} dup={dup} lost={lost} "
        f"cpu_ms_per_msg={cpu_ms:.3f} peak_rss_mb={peak_rss_mb:.1f}"
    )
    if floor is not None and floor.last["messages"]:
        floor_cpu = 1000 * floor.last["cpu_s"] / floor.last["messages"]
        floor_rss = floor.last["peak_rss_mb"]
        ratios = [r.sender_ms / r.floor_ms for r in rounds if r.sender_messages]
        print(
            f"floor: bare aiogram (nothing of bot imported) sent {floor.last['messages']} "
            f"messages at {args.limit:g}/s in {len(rounds)} slices between the sender's, "
            f"at most {floor.last['in_flight_max']} in flight: {floor_cpu:.3f} ms CPU a "
            f"message (the sender {cpu_ms / floor_cpu:.2f}× that; by round "
            f"{', '.join(f'{x:.2f}' for x in ratios)}); it peaks at {floor_rss:.1f} MB "
            f"(the sender {peak_rss_mb:.1f} MB, {peak_rss_mb / floor_rss:.2f}×, "
            f"+{peak_rss_mb - floor_rss:.1f} MB)"
        )
        summary += (
            f" floor_cpu_ms_per_msg={floor_cpu:.3f} floor_peak_rss_mb={floor_rss:.1f}"
            f" cpu_ratio={cpu_ms / floor_cpu:.2f} rss_ratio={peak_rss_mb / floor_rss:.2f}"
        )
    print(summary)
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
        "--floor-share",
        type=float,
        default=0.25,
        help="the bare-aiogram floor sends this many messages per subscriber, in all",
    )
    parser.add_argument(
        "--rounds", type=int, default=4, help="sender/floor turns (the floor's slices)"
    )
    parser.add_argument("--no-floor", action="store_true", help="skip the floor")
    parser.add_argument(
        "--digest", action="store_true", help="a digest's message: a bot link, buttons, preview"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary database")
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
