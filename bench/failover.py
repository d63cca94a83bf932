"""Failover of the sender between two `python -m bot worker` processes on PostgreSQL:
`python bench/failover.py --deliveries 20000 --limit 25`.

This process runs the Bot API emulator on 127.0.0.1 with Telegram's flood control (30 messages
a second overall, one a second per chat: a 429 beyond), makes a scratch PostgreSQL database
(tests/support/databases.py: TEST_DATABASE_URL's server, else 127.0.0.1:5432) with two
campaigns, and starts two workers (tests/support/workers.py: the production entry point, real
processes, SEND_RATE=--limit), the second once the first has called getMe:

- a post to `--deliveries` × (1 − `--multi-share`) subscribers, one message each;
- then a post of two messages to a share of the same chats (`--multi-share` of the deliveries,
  the chats of headteachers): a chat getting messages one after the other is what the
  same-chat gap is measured on.

When `--kill-at` (half) of the deliveries have their first message, the active worker — the one
runtime_status `sender_owner` names ("<hostname>:<pid>:<hex>"), or while nobody is named the
one that has sent the most — is killed with SIGKILL, from inside the emulator's answer to a
message (between two answers), and the outbox is read at once. The standby takes over; the
bench waits until no delivery is pending (bounded by `--timeout`), stops the workers and
drops the database, also on failure or Ctrl-C.

Each worker runs with its own token of the same bot, so the emulator's record of every request
says which process made it. Figures, from the emulator's record (its clock is this process's
time.monotonic, the kill's too):

- lost: deliveries a message of which never arrived and that the outbox does not record as
  failed or blocked;
- dup: extra copies, per delivery and message part;
- unrecorded: messages the killed worker got through (counted by its token, including answers
  to requests on the wire when it died) that the outbox read right after the kill does not
  record (a delivery not `sent`, or fewer `parts_sent`): what a takeover may send again.
  Acceptance: dup ≤ unrecorded and dup ≤ 5;
- http_429: the emulator's flood-control rejections;
- min_chat_gap_s: the smallest gap between two messages arriving in one chat (≥ 1.0 wanted);
- rate_ratio: messages a second over the steady parts — from the first message to the last
  one before the kill, and from the standby's first message after it to the very last — over
  --limit (≥ 0.95 wanted); the failover gap is left out;
- failover_s: from the SIGKILL to the standby's first message (≤ 20 wanted).

Last line: `failover: deliveries=… limit=… lost=… dup=… unrecorded=… http_429=…
min_chat_gap_s=… rate_ratio=… failover_s=… database=postgresql`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa

from bot.content.models import Audience, CampaignKind, DeliveryStatus, MessagePart, Role
from bot.storage.campaigns import SINGLE_VARIANT, CampaignRepository
from bot.storage.database import Database
from bot.storage.db import create_engine, migrate
from bot.storage.schema import deliveries, subscribers
from tests.support.databases import drop_scratch_databases, postgres_url
from tests.support.emulator import BotAPIEmulator, Call
from tests.support.subscribers import onboarded_row
from tests.support.workers import Worker, Workers, workers_running

FIRST_CHAT = 2_000_000
EDITOR = 42
POST = "Инфозона: семинар для координаторов экспериментальных площадок — 15 марта, 10:00, ИМЦ."
PARTS = (
    "Инфозона: итоги конкурса «Педагог года». Часть 1 — победители по номинациям.",
    "Инфозона: итоги конкурса «Педагог года». Часть 2 — фотографии и видео церемонии.",
)
# The text of a message → (campaign: 0 the post, 1 the two-part one; its part).
PART_OF = {POST: (0, 0), PARTS[0]: (1, 0), PARTS[1]: (1, 1)}
NOTE_EVERY = 10.0  # seconds between progress lines on stderr


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


@dataclass(frozen=True, slots=True)
class Arrival:
    at: float  # the emulator's clock (time.monotonic)
    worker: int  # which process sent it (by its token); -1 unknown
    campaign: int  # 0 the post, 1 the two-part post
    chat: int
    part: int


@dataclass
class Tap:
    """Sees every call the emulator answers: keeps the bench's messages, kills the active
    worker once `kill_after` deliveries have their first message."""

    workers: Workers
    chats: int
    kill_after: int
    arrivals: list[Arrival] = field(default_factory=list)
    http_429: int = 0
    started: set[tuple[int, int]] = field(default_factory=set)  # (campaign, chat) reached
    owner: Worker | None = None  # as the database last named it
    victim: Worker | None = None
    killed_at: float | None = None
    killed: asyncio.Event = field(default_factory=asyncio.Event)
    by_worker: Counter[int] = field(default_factory=Counter)

    def __call__(self, call: Call) -> bool:
        if call.method != "sendMessage":
            return False
        chat = call.chat_id
        if chat is None or not FIRST_CHAT <= chat < FIRST_CHAT + self.chats:
            return False
        if not call.ok:
            if call.response.get("error_code") == 429:
                self.http_429 += 1
            return False
        part = PART_OF.get(str(call.params.get("text")))
        if part is None:
            return False
        worker = self.workers.by_token(call.token)
        index = worker.index if worker is not None else -1
        self.arrivals.append(Arrival(call.at, index, part[0], chat, part[1]))
        self.by_worker[index] += 1
        self.started.add((part[0], chat))
        if self.killed_at is None and len(self.started) >= self.kill_after:
            self.kill()
        return False

    def kill(self) -> None:
        victim = self.owner if self.owner is not None and self.owner.alive else None
        if victim is None:  # nobody named yet: the one doing the sending
            alive = [w for w in self.workers.started if w.alive]
            victim = max(alive, key=lambda w: self.by_worker[w.index])
        victim.kill()
        self.killed_at = victim.killed_at = time.monotonic()
        self.victim = victim
        self.killed.set()


async def prepare(engine: Database, deliveries_n: int, multi_share: float) -> tuple[int, int]:
    """Subscribers and the two campaigns; (subscribers, two-part deliveries)."""
    await migrate(engine)
    multi = round(deliveries_n * multi_share)
    chats = deliveries_n - multi
    if not 0 <= multi <= chats:
        raise SystemExit("--multi-share must be between 0 and 0.5")
    heads = {round(j * chats / multi) for j in range(multi)} if multi else set()
    now = datetime.now(UTC)
    rows = [
        onboarded_row(FIRST_CHAT + i, f"Педагог {i}", now,
                      **({"role": Role.HEAD.value} if i in heads else {}))
        for i in range(chats)
    ]  # fmt: skip
    async with engine.begin() as conn:
        for start in range(0, len(rows), 5000):
            await conn.execute(subscribers.insert(), rows[start : start + 5000])
    repo = CampaignRepository(engine)
    post = await repo.create(
        "post:failover-bench", CampaignKind.POST, "Семинар для координаторов",
        {SINGLE_VARIANT: [MessagePart(POST)]}, Audience(),
    )  # fmt: skip
    assert post is not None and post.total == chats
    if multi:
        two = await repo.create(
            "post:failover-bench-2", CampaignKind.POST, "Итоги конкурса",
            {SINGLE_VARIANT: [MessagePart(text) for text in PARTS]},
            Audience(roles=frozenset({Role.HEAD})),
        )  # fmt: skip
        assert two is not None and two.total == multi, (two, multi)
    return chats, multi


async def outbox_rows(engine: Database) -> list[tuple[int, int, str, int]]:
    """(campaign: 0 or 1, chat, status, parts_sent) of every delivery."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            sa.select(
                deliveries.c.campaign_id, deliveries.c.chat_id, deliveries.c.status,
                deliveries.c.parts_sent,
            ).order_by(deliveries.c.id)
        )  # fmt: skip
        found = rows.all()
    first = min((r[0] for r in found), default=0)
    return [(r[0] - first, r[1], r[2], r[3]) for r in found]


async def pending(engine: Database) -> int:
    async with engine.connect() as conn:
        count = await conn.execute(
            sa.select(sa.func.count())
            .select_from(deliveries)
            .where(deliveries.c.status == DeliveryStatus.PENDING.value)
        )
        return int(count.scalar_one())


async def watch_owner(tap: Tap, engine: Database) -> None:
    """Keeps `tap.owner` to the worker the database names as the active sender."""
    while True:
        with contextlib.suppress(Exception):
            tap.owner = await tap.workers.owner(engine) or tap.owner
        await asyncio.sleep(0.25)


async def deadline_wait(
    what: str, until: float, check: Callable[[], Awaitable[bool]], wake: asyncio.Event
) -> None:
    """Checks every 0.5 s, or at once when `wake` is set, until `check` is true; SystemExit
    naming `what` past `until` (time.monotonic)."""
    while not await check():
        if time.monotonic() > until:
            raise SystemExit(f"timed out waiting for {what}")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), 0.5)


@dataclass
class Progress:
    """A line on stderr every NOTE_EVERY seconds, and a check that the workers still run."""

    tap: Tap
    next_at: float = field(default_factory=lambda: time.monotonic() + NOTE_EVERY)

    def check(self, workers: Workers) -> None:
        tap = self.tap
        if not tap.killed.is_set() and any(not w.alive for w in workers.started):
            raise SystemExit(f"a worker exited before the kill:\n{_logs(workers)}")
        if not any(w.alive for w in workers.started):
            raise SystemExit(f"no worker left running:\n{_logs(workers)}")
        now = time.monotonic()
        if now >= self.next_at:
            self.next_at = now + NOTE_EVERY
            log(f"  … {len(tap.arrivals)} messages, {len(tap.started)} deliveries reached, "
                f"by worker {dict(tap.by_worker)}, 429s {tap.http_429}")  # fmt: skip


@dataclass
class Figures:
    lost: int
    dup: int
    unrecorded: int
    min_chat_gap_s: float
    rate: float
    failover_s: float | None
    notes: list[str]


def figures(
    tap: Tap,
    at_kill: list[tuple[int, int, str, int]],
    final: list[tuple[int, int, str, int]],
) -> Figures:
    parts_of = {0: 1, 1: len(PARTS)}
    copies: Counter[tuple[int, int, int]] = Counter()
    by_victim: dict[tuple[int, int], set[int]] = defaultdict(set)
    victim = tap.victim.index if tap.victim is not None else None
    per_chat: dict[int, list[float]] = defaultdict(list)
    for a in tap.arrivals:
        copies[(a.campaign, a.chat, a.part)] += 1
        per_chat[a.chat].append(a.at)
        if a.worker == victim:
            by_victim[(a.campaign, a.chat)].add(a.part)
    dup = sum(n - 1 for n in copies.values() if n > 1)
    lost = 0
    for campaign, chat, status, _ in final:
        missing = any(copies[(campaign, chat, p)] == 0 for p in range(parts_of[campaign]))
        if missing and status not in (DeliveryStatus.FAILED.value, DeliveryStatus.BLOCKED.value):
            lost += 1
    recorded: dict[tuple[int, int], int] = {}
    for campaign, chat, status, parts_sent in at_kill:
        done = status != DeliveryStatus.PENDING.value
        recorded[(campaign, chat)] = parts_of[campaign] if done else parts_sent
    unrecorded = sum(max(0, len(parts) - recorded.get(key, 0)) for key, parts in by_victim.items())
    gaps = [
        b - a
        for times in per_chat.values()
        for a, b in zip(sorted(times), sorted(times)[1:], strict=False)
    ]
    notes: list[str] = []
    times = sorted(a.at for a in tap.arrivals)
    killed = tap.killed_at
    rate = 0.0
    failover_s = None
    if killed is not None and times:
        before = [t for t in times if t < killed]
        standby = sorted(a.at for a in tap.arrivals if a.at > killed and a.worker != victim)
        after = [t for t in times if standby and t >= standby[0]]
        if standby:
            failover_s = standby[0] - killed
        spans = [(len(s) - 1, s[-1] - s[0]) for s in (before, after) if len(s) > 1]
        seconds = sum(span for _, span in spans)
        rate = sum(n for n, _ in spans) / seconds if seconds else 0.0
        notes.append(
            f"steady parts: {len(before)} messages in {before[-1] - before[0]:.1f} s before the "
            f"kill" + (f", {len(after)} in {after[-1] - after[0]:.1f} s from the standby's "
                       f"first" if len(after) > 1 else "")
        )  # fmt: skip
        early = [a for a in tap.arrivals if a.at < killed and a.worker != victim]
        notes.append(
            f"the standby sent {len(early)} messages while the active worker ran (0 wanted)"
        )
        late = [a for a in tap.arrivals if a.at > killed and a.worker == victim]
        if late:
            notes.append(f"{len(late)} of the killed worker's requests arrived after the kill")
    return Figures(lost, dup, unrecorded, min(gaps, default=float("nan")), rate, failover_s,
                   notes)  # fmt: skip


async def run(args: argparse.Namespace) -> int:
    folder = Path(tempfile.mkdtemp(prefix="bench-failover-"))
    url = postgres_url("failover")
    engine = create_engine(url)
    emu = BotAPIEmulator(strict_chats=False, keep_calls=False)
    emu.set_flood_control(global_per_sec=30, per_chat_per_sec=1)
    tasks: list[asyncio.Task[object]] = []
    try:
        chats, multi = await prepare(engine, args.deliveries, args.multi_share)
        messages = chats + multi * len(PARTS)
        timeout = args.timeout or messages / args.limit * 1.5 + 120
        log(
            f"{args.deliveries} deliveries ({chats} chats, {multi} of them a second post of "
            f"{len(PARTS)} messages): {messages} messages, ≥ {messages / args.limit:.0f} s at "
            f"{args.limit:g}/s; deadline {timeout:.0f} s; database {url.rsplit('/', 1)[-1]}"
        )
        api = await emu.start("127.0.0.1", 0)
        settings = {"SEND_RATE": f"{args.limit:g}", "ADMIN_IDS": str(EDITOR)}
        async with workers_running(api, url, folder, **settings) as workers:
            tap = Tap(workers, chats, max(1, round(args.kill_at * args.deliveries)))
            tasks.append(asyncio.create_task(emu.wait_for(tap, timeout=24 * 3600, after=0)))
            tasks.append(asyncio.create_task(watch_owner(tap, engine)))
            started = time.monotonic()
            until = started + timeout
            first = await workers.start()
            await emu.wait_for(lambda c: c.method == "getMe" and c.token == first.token,
                               timeout=60, after=0)  # fmt: skip
            await workers.start()

            progress = Progress(tap)

            async def kill_done() -> bool:
                progress.check(workers)
                return tap.killed.is_set()

            await deadline_wait("the kill", until, kill_done, tap.killed)
            at_kill = await outbox_rows(engine)  # the killed worker records nothing more
            snapshot_ms = (time.monotonic() - (tap.killed_at or 0)) * 1000
            victim = tap.victim
            assert victim is not None
            log(
                f"killed worker {victim.index} (pid {victim.pid}, "
                f"{'named by sender_owner' if victim is tap.owner else 'no sender_owner yet'}) "
                f"at {len(tap.started)} deliveries; outbox read {snapshot_ms:.0f} ms later: "
                f"{dict(Counter(r[2] for r in at_kill))}"
            )

            async def drained() -> bool:
                progress.check(workers)
                return not await pending(engine)

            await deadline_wait("the outbox to drain", until, drained, asyncio.Event())
            elapsed = time.monotonic() - started
            owner = await workers.owner(engine)
            await workers.stop()
        final = await outbox_rows(engine)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await emu.stop()
        await engine.dispose()
        drop_scratch_databases()

    result = figures(tap, at_kill, final)
    print(f"outbox: {dict(Counter(r[2] for r in final))}; {elapsed:.0f} s from the first start")
    print(
        f"messages: {len(tap.arrivals)} by worker {dict(tap.by_worker)}; killed worker "
        f"{victim.index}; sender_owner at the end: "
        f"{f'worker {owner.index}' if owner is not None else 'none of these'}"
    )
    for note in result.notes:
        print(note)
    checks = {
        "lost == 0": result.lost == 0,
        "dup <= unrecorded": result.dup <= result.unrecorded,
        "dup <= 5": result.dup <= 5,
        "min_chat_gap_s >= 1.0": result.min_chat_gap_s >= 1.0,
        "rate_ratio >= 0.95": result.rate / args.limit >= 0.95,
        "failover_s <= 20": result.failover_s is not None and result.failover_s <= 20,
    }
    failed = [name for name, ok in checks.items() if not ok]
    print("acceptance: " + ("all met" if not failed else "NOT met: " + ", ".join(failed)))
    failover_s = f"{result.failover_s:.2f}" if result.failover_s is not None else "none"
    print(
        f"failover: deliveries={args.deliveries} limit={args.limit:g} lost={result.lost} "
        f"dup={result.dup} unrecorded={result.unrecorded} http_429={tap.http_429} "
        f"min_chat_gap_s={result.min_chat_gap_s:.3f} rate_ratio={result.rate / args.limit:.3f} "
        f"failover_s={failover_s} database=postgresql"
    )
    return 0 if not failed else 1


def _logs(workers: Workers) -> str:
    return "\n".join(
        f"--- worker {w.index} (exit {w.process.returncode}):\n{w.log_text()[-3000:]}"
        for w in workers.started
    )


async def main(args: argparse.Namespace) -> int:
    # SIGTERM as Ctrl-C: the run is cancelled and cleans up (workers, database) on its way out.
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    try:
        return await run(args)
    except asyncio.CancelledError:
        log("failover: interrupted; the workers are stopped and the database dropped")
        return 130


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=20_000)
    parser.add_argument("--limit", type=float, default=25, help="SEND_RATE, messages a second")
    parser.add_argument(
        "--multi-share", type=float, default=0.1,
        help="share of the deliveries that are a second, two-message post to the same chats",
    )  # fmt: skip
    parser.add_argument(
        "--kill-at", type=float, default=0.5, help="kill the active worker at this share"
    )
    parser.add_argument(
        "--timeout", type=float, default=0, help="seconds in all (default: from the size)"
    )
    return parser.parse_args()


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))
