"""Everyday commands through the real bot beside bare aiogram, in the same run.

    python -m bench.commands
    python -m bench.commands --rounds 3 --rate 10 --onboardings 500

The real dispatcher (the same factory the bot runs, in this process) polls the Bot API emulator
on 127.0.0.1 with a fresh SQLite database of known subscribers and a few events and materials.
The mix: /start of a known subscriber, /next, a free-text question, a topic toggle in /settings,
/search. Each round runs the bot and then bare aiogram (the order alternates between rounds) on
the same emulator: a minimal Dispatcher whose handlers make the same Bot API calls
(sendMessage / editMessageText / editMessageReplyMarkup / answerCallbackQuery) with the payloads
the bot made for the same command, captured at start-up. Only one of them polls at a time.

Phases of a round, for each side: the mix at a steady rate (--rate updates a second), then each
command saturated (--burst updates at once). CPU is time.process_time around a phase divided by
its updates; it includes the emulator and the simulated users, which cost the same on both
sides. Latency is from an update's injection to the last reply call for it in the emulator's
call log. The last line:

    commands: cpu_ms_per_update=… floor_cpu_ms_per_update=… p99_ms=… floor_p99_ms=…
        throughput_ratio=…

(the CPU figures and p99 are of the steady mix; throughput_ratio is the bot's saturated
updates a second over bare aiogram's). --onboardings N adds N people onboarding at once
(bench/buttons.py's onboarding: /start and five presses each) for both sides and prints, before
it, `onboarding: steps_per_s=… floor_steps_per_s=… p99_ms=… max_ms=… errors=…` (p99 and max of
"press to result on screen", errors: people who did not finish plus error log records).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiogram.methods
from aiogram import Bot, Dispatcher, F
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.filters import Command
from aiogram.methods.base import TelegramMethod
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, TelegramObject, Update

from bench import buttons
from bot.content.models import Item, ItemKind, ItemStatus
from bot.heap import freeze_after_imports
from bot.storage.items import ItemRepository
from bot.storage.schema import subscribers
from tests.support.emulator import BotAPIEmulator, Call
from tests.support.harness import TOKEN, RunningBot, bot_running
from tests.support.subscribers import onboarded_row

KINDS = ("start", "next", "question", "toggle", "search")
TEXTS = {
    "start": "/start",
    "next": "/next",
    "question": "Подскажите, что на этой неделе?",
    "search": "/search инновационный",
}
FIRST_BOT_USER = 600_000  # the bot's known subscribers
FIRST_FLOOR_USER = 700_000  # bare aiogram's: their own messages, so a toggle never clashes
WARM_USER = 800_000  # start-up capture and each phase's warm-up
FLOOR_ONBOARDING = 100_000  # bare aiogram's onboarding people: buttons.FIRST_USER + this + n
PATIENCE = 120.0
Sender = Callable[[], Awaitable[None]]


# ---------------------------------------------------------------- tracking and injection


class Tracker:
    """Outer middleware: when each update's handling ended (monotonic clock)."""

    def __init__(self) -> None:
        self.done: dict[int, float] = {}
        self._changed = asyncio.Event()

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        try:
            return await handler(event, data)
        finally:
            assert isinstance(event, Update)
            self.done[event.update_id] = time.monotonic()
            self._changed.set()

    async def wait(self, update_ids: list[int]) -> float:
        """Until every update is handled; the latest end."""
        async with asyncio.timeout(PATIENCE):
            while not all(u in self.done for u in update_ids):
                self._changed.clear()
                await self._changed.wait()
        return max(self.done[u] for u in update_ids)


@dataclass
class Users:
    """Each side's subscribers and the /settings topics message each has on screen."""

    ids: list[int]
    topics: dict[int, int] = field(default_factory=dict)  # user -> message id
    toggle_data: str = ""


@dataclass
class Sent:
    user: int
    update_id: int
    at: float
    query_id: str | None = None


def inject(emu: BotAPIEmulator, users: Users, user: int, kind: str) -> Sent:
    at = time.monotonic()
    if kind == "toggle":
        message = emu.message(user, users.topics[user])
        query_id = emu.press(user, message, users.toggle_data)
        return Sent(user, emu.updates[-1]["update_id"], at, query_id)
    emu.send_message(user, TEXTS[kind])
    return Sent(user, emu.updates[-1]["update_id"], at)


def replies(calls: list[Call], sent: Sent) -> list[Call]:
    return [
        c
        for c in calls
        if c.at >= sent.at
        and (
            c.chat_id == sent.user
            or (
                sent.query_id is not None
                and str(c.params.get("callback_query_id")) == sent.query_id
            )
        )
    ]


def latencies(emu: BotAPIEmulator, start: int, sent: list[Sent]) -> list[float]:
    """Injection to the last reply call, each user having one update in the phase."""
    calls = emu.calls[start:]
    by_chat: dict[int, float] = {}
    by_query: dict[str, float] = {}
    for c in calls:
        if c.method == "getUpdates":
            continue
        if c.chat_id is not None:
            by_chat[c.chat_id] = c.at
        query = c.params.get("callback_query_id")
        if query is not None:
            by_query[str(query)] = c.at
    out = []
    for s in sent:
        last = max(by_chat.get(s.user, 0.0), by_query.get(s.query_id or "", 0.0))
        out.append(last - s.at if last else float("nan"))
    return out


# ---------------------------------------------------------------- the two sides


class Side:
    name = ""
    tracker: Tracker

    async def start(self) -> None:
        raise NotImplementedError

    async def stop(self) -> None:
        raise NotImplementedError


class RealBot(Side):
    name = "bot"

    def __init__(self, running: RunningBot) -> None:
        self.running = running
        self.tracker = Tracker()

    async def start(self) -> None:
        await self.running.start()
        self.running.dp.update.outer_middleware(self.tracker)

    async def stop(self) -> None:
        await self.running.stop()


@dataclass
class Script:
    """Bot API calls the real bot made for one update, as aiogram methods to send again."""

    methods: list[TelegramMethod[Any]]
    markup: InlineKeyboardMarkup | None = None  # of its edit (toggles alternate between two)


def _labels(markup: InlineKeyboardMarkup | None) -> list[str]:
    return [b.text for row in markup.inline_keyboard for b in row] if markup else []


def script(calls: list[Call]) -> Script:
    methods: list[TelegramMethod[Any]] = []
    markup = None
    for c in calls:
        if c.method == "getUpdates" or not c.ok:
            continue
        model = getattr(aiogram.methods, c.method[0].upper() + c.method[1:])
        method = model.model_validate(c.params)
        methods.append(method)
        if c.method.startswith("edit") and isinstance(method.reply_markup, InlineKeyboardMarkup):
            markup = method.reply_markup
    return Script(methods, markup)


class Floor(Side):
    """Bare aiogram: a minimal Dispatcher replaying the bot's calls for each update."""

    name = "floor"

    def __init__(self, emu: BotAPIEmulator) -> None:
        self.emu = emu
        self.tracker = Tracker()
        self.scripts: dict[str, Script] = {}
        self.toggles: list[Script] = []
        self.onboarding_start: Script | None = None
        self.onboarding_steps: dict[str, Script] = {}
        self._task: asyncio.Task[None] | None = None
        self._dp: Dispatcher | None = None
        self._bot: Bot | None = None

    async def _replay(
        self, bot: Bot, s: Script, chat_id: int, message_id: int | None, query_id: str | None
    ) -> None:
        for method in s.methods:
            update: dict[str, Any] = {}
            fields = type(method).model_fields
            if "chat_id" in fields:
                update["chat_id"] = chat_id
            if "message_id" in fields and message_id is not None:
                update["message_id"] = message_id
            if "callback_query_id" in fields and query_id is not None:
                update["callback_query_id"] = query_id
            await bot(method.model_copy(update=update))

    def _dispatcher(self) -> Dispatcher:
        dp = Dispatcher()
        dp.update.outer_middleware(self.tracker)
        onboarding = range(buttons.FIRST_USER, buttons.FIRST_USER + 2 * FLOOR_ONBOARDING)

        async def start(message: Message, bot: Bot) -> None:
            user = message.from_user.id if message.from_user else 0
            s = self.onboarding_start if user in onboarding else self.scripts["start"]
            assert s is not None
            await self._replay(bot, s, message.chat.id, None, None)

        def command(kind: str) -> Callable[[Message, Bot], Awaitable[None]]:
            async def handle(message: Message, bot: Bot) -> None:
                await self._replay(bot, self.scripts[kind], message.chat.id, None, None)

            return handle

        async def press(query: CallbackQuery, bot: Bot) -> None:
            assert isinstance(query.message, Message)
            message = query.message
            s = self.onboarding_steps.get(query.data or "")
            if s is None:  # the topic toggle: show the state the message does not show
                first, second = self.toggles
                s = second if _labels(message.reply_markup) == _labels(first.markup) else first
            await self._replay(bot, s, message.chat.id, message.message_id, query.id)

        dp.message.register(start, Command("start"))
        dp.message.register(command("next"), Command("next"))
        dp.message.register(command("search"), Command("search"))
        dp.message.register(command("question"), F.text)
        dp.callback_query.register(press)
        return dp

    async def start(self) -> None:
        session = AiohttpSession(api=TelegramAPIServer.from_base(self.emu.base_url))
        self._bot = Bot(TOKEN, session=session)
        self._dp = self._dispatcher()
        self._task = asyncio.create_task(
            self._dp.start_polling(self._bot, handle_signals=False, polling_timeout=5)
        )
        await self.emu.wait_until_polling()

    async def stop(self) -> None:
        assert self._dp is not None and self._task is not None and self._bot is not None
        await self._dp.stop_polling()
        await self._task
        await self._bot.session.close()


# ---------------------------------------------------------------- set-up


async def seed(running: RunningBot, users: list[int]) -> None:
    items = ItemRepository(running.engine)
    tz = running.settings.tz
    soon = datetime.now(tz).replace(hour=10, minute=0, second=0, microsecond=0)
    today = soon.date()
    places = ("ИМЦ, ауд. 12", "Гимназия № 2, актовый зал", "онлайн")
    for n in range(8):
        await items.add(
            Item(0, ItemKind.EVENT, f"Семинар «Современный урок», часть {n + 1}",
                 status=ItemStatus.APPROVED, starts_at=soon + timedelta(days=1 + n),
                 place=places[n % 3], audience_text="Педагоги ОУ")
        )  # fmt: skip
    await items.add(
        Item(0, ItemKind.EVENT, "Координация районных опорных площадок",
             status=ItemStatus.APPROVED, timing_text="В течение года",
             period_start=today - timedelta(days=60), period_end=today + timedelta(days=200))
    )  # fmt: skip
    for n in range(3):
        await items.add(
            Item(0, ItemKind.MATERIAL, f"Инновационные практики: сборник {n + 1}",
                 status=ItemStatus.APPROVED, approved_at=soon - timedelta(days=1 + n),
                 body="Опыт школ района: проектное обучение, наставничество.")
        )  # fmt: skip
    now = datetime.now(UTC)
    rows = [onboarded_row(user, f"Педагог {user}", now) for user in users]
    async with running.engine.begin() as conn:
        await conn.execute(subscribers.insert(), rows)
    for user in users:
        running.emu.user(user, first_name="Педагог")


async def open_topics(emu: BotAPIEmulator, user: int) -> tuple[int, str]:
    """/settings, then «Темы»: the topics message id and its «Методические» toggle's data."""
    after = len(emu.calls)
    emu.send_message(user, "/settings")
    menu = await emu.wait_for(
        lambda c: c.method == "sendMessage" and c.chat_id == user and "reply_markup" in c.params,
        timeout=PATIENCE,
        after=after,
    )
    message = menu.result
    after = len(emu.calls)
    emu.press(user, message, emu.button_data(message, "Темы"))
    await emu.wait_for(
        lambda c: c.method.startswith("edit") and c.chat_id == user,
        timeout=PATIENCE,
        after=after,
    )
    shown = emu.message(user, message["message_id"])
    return message["message_id"], emu.button_data(shown, "Методические")


async def capture(
    emu: BotAPIEmulator, side: Side, users: Users, user: int, kind: str
) -> list[Call]:
    start = len(emu.calls)
    sent = inject(emu, users, user, kind)
    await side.tracker.wait([sent.update_id])
    return replies(emu.calls[start:], sent)


async def capture_onboarding(emu: BotAPIEmulator, bot: RealBot, floor: Floor, user: int) -> None:
    emu.user(user, first_name="Педагог")
    start = len(emu.calls)
    emu.send_message(user, "/start")
    sent = Sent(user, emu.updates[-1]["update_id"], time.monotonic())
    await bot.tracker.wait([sent.update_id])
    calls = replies(emu.calls[start:], sent)
    floor.onboarding_start = script(calls)
    message = next(
        c.result for c in calls if c.method == "sendMessage" and "reply_markup" in c.params
    )
    for label in buttons.STEPS:
        data = emu.button_data(message, label)
        start = len(emu.calls)
        query = emu.press(user, message, data)
        sent = Sent(user, emu.updates[-1]["update_id"], time.monotonic(), query)
        await bot.tracker.wait([sent.update_id])
        floor.onboarding_steps[data] = script(replies(emu.calls[start:], sent))
        message = emu.message(user, message["message_id"])


# ---------------------------------------------------------------- phases


@dataclass
class Figures:
    cpu_s: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    count: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    steady_cpu_s: float = 0.0
    steady_count: int = 0
    steady_latency: list[float] = field(default_factory=list)
    burst_latency: list[float] = field(default_factory=list)
    burst_wall_s: float = 0.0
    burst_count: int = 0


async def warm_up(emu: BotAPIEmulator, side: Side, warm: Users) -> None:
    for kind in KINDS:
        await capture(emu, side, warm, WARM_USER, kind)


async def steady(
    emu: BotAPIEmulator, side: Side, users: Users, rate: float, n: int, fig: Figures
) -> None:
    start = len(emu.calls)
    sent: list[Sent] = []
    gc.collect()  # each phase pays for its own garbage, not for what the one before left
    cpu0 = time.process_time()
    began = time.monotonic()
    for i in range(n):  # on an absolute schedule
        delay = began + i / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        sent.append(inject(emu, users, users.ids[i % len(users.ids)], KINDS[i % len(KINDS)]))
    await side.tracker.wait([s.update_id for s in sent])
    fig.steady_cpu_s += time.process_time() - cpu0
    fig.steady_count += n
    fig.steady_latency += latencies(emu, start, sent)


async def burst(
    emu: BotAPIEmulator, side: Side, users: Users, kind: str, n: int, fig: Figures
) -> None:
    start = len(emu.calls)
    gc.collect()
    cpu0 = time.process_time()
    began = time.monotonic()
    sent = [inject(emu, users, users.ids[i], kind) for i in range(n)]
    ended = await side.tracker.wait([s.update_id for s in sent])
    fig.cpu_s[kind] += time.process_time() - cpu0
    fig.count[kind] += n
    fig.burst_wall_s += ended - began
    fig.burst_count += n
    fig.burst_latency += latencies(emu, start, sent)


async def round_for(
    emu: BotAPIEmulator,
    side: Side,
    users: Users,
    warm: Users,
    args: argparse.Namespace,
    fig: Figures,
    drop: Bot,
) -> None:
    await drop.delete_webhook(drop_pending_updates=True)  # the other side's unconfirmed batch
    await side.start()
    try:
        await warm_up(emu, side, warm)
        await steady(emu, side, users, args.rate, args.steady, fig)
        for kind in KINDS:
            await burst(emu, side, users, kind, args.burst, fig)
    finally:
        await side.stop()


class ErrorCount(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


async def onboarding_for(
    emu: BotAPIEmulator, side: Side, first: int, people: int, drop: Bot
) -> tuple[float, list[float], int]:
    """Steps a second, press-to-screen times, errors."""
    await drop.delete_webhook(drop_pending_updates=True)
    await side.start()
    errors = ErrorCount()
    logging.getLogger().addHandler(errors)
    answers: list[float] = []
    shown: list[float] = []
    try:
        began = time.monotonic()
        results = await asyncio.gather(
            *(buttons.onboard(emu, first + n, answers, shown) for n in range(people)),
            return_exceptions=True,
        )
        elapsed = time.monotonic() - began
    finally:
        logging.getLogger().removeHandler(errors)
        await side.stop()
    failed = sum(1 for r in results if isinstance(r, BaseException))
    steps = people * (1 + len(buttons.STEPS))
    return steps / elapsed, sorted(shown), failed + errors.count


# ---------------------------------------------------------------- report


def _ms(seconds: float) -> float:
    return 1000 * seconds


def p99(values: list[float]) -> float:
    ordered = sorted(v for v in values if v == v)
    return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] if ordered else float("nan")


async def run(args: argparse.Namespace) -> None:
    logging.basicConfig(level=logging.WARNING)
    pool = max(args.steady, args.burst)
    bot_users = Users([FIRST_BOT_USER + n for n in range(pool)])
    floor_users = Users([FIRST_FLOOR_USER + n for n in range(pool)])
    warm = Users([WARM_USER])
    figs = {"bot": Figures(), "floor": Figures()}
    with tempfile.TemporaryDirectory() as tmp:
        async with BotAPIEmulator() as emu, bot_running(emu, Path(tmp)) as running:
            await seed(running, [*bot_users.ids, *floor_users.ids, WARM_USER])
            for group in (bot_users, floor_users, warm):
                opened = await asyncio.gather(*(open_topics(emu, u) for u in group.ids))
                group.topics = {u: mid for u, (mid, _) in zip(group.ids, opened, strict=True)}
                group.toggle_data = opened[0][1]
            await running.stop()
            bot = RealBot(running)
            floor = Floor(emu)
            drop = Bot(
                TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(emu.base_url))
            )
            try:
                await bot.start()
                for kind in ("start", "next", "question", "search"):
                    floor.scripts[kind] = script(await capture(emu, bot, warm, WARM_USER, kind))
                floor.toggles = [
                    script(await capture(emu, bot, warm, WARM_USER, "toggle")) for _ in range(2)
                ]
                if args.onboardings:
                    await capture_onboarding(emu, bot, floor, buttons.FIRST_USER - 1)
                await bot.stop()
                counts = ", ".join(f"{k} {len(s.methods)}" for k, s in floor.scripts.items())
                print(f"captured calls: {counts}, toggle {len(floor.toggles[0].methods)}")
                onboarding_line = None
                if args.onboardings:
                    rate, shown, errors = await onboarding_for(
                        emu, bot, buttons.FIRST_USER, args.onboardings, drop
                    )
                    floor_rate, floor_shown, floor_errors = await onboarding_for(
                        emu, floor, buttons.FIRST_USER + FLOOR_ONBOARDING, args.onboardings, drop
                    )
                    print(
                        f"onboarding floor: p99 {_ms(p99(floor_shown)):.0f} ms, "
                        f"max {_ms(floor_shown[-1]):.0f} ms, errors {floor_errors}"
                    )
                    onboarding_line = (
                        f"onboarding: steps_per_s={rate:.1f} floor_steps_per_s={floor_rate:.1f} "
                        f"p99_ms={_ms(p99(shown)):.0f} max_ms={_ms(shown[-1]):.0f} errors={errors}"
                    )
                for r in range(args.rounds):
                    sides: list[tuple[Side, Users]] = [(bot, bot_users), (floor, floor_users)]
                    if r % 2:
                        sides.reverse()
                    for side, users in sides:
                        await round_for(emu, side, users, warm, args, figs[side.name], drop)
                    print(f"round {r + 1}/{args.rounds} done", flush=True)
            finally:
                await drop.session.close()
    b, f = figs["bot"], figs["floor"]
    for kind in KINDS:
        mine = _ms(b.cpu_s[kind] / b.count[kind])
        theirs = _ms(f.cpu_s[kind] / f.count[kind])
        print(
            f"{kind}: cpu_ms_per_update={mine:.2f} floor_cpu_ms_per_update={theirs:.2f} "
            f"ratio={mine / theirs:.1f}"
        )
    cpu = _ms(b.steady_cpu_s / b.steady_count)
    floor_cpu = _ms(f.steady_cpu_s / f.steady_count)
    throughput = b.burst_count / b.burst_wall_s
    floor_throughput = f.burst_count / f.burst_wall_s
    print(
        f"steady mix at {args.rate:g}/s: cpu ratio {cpu / floor_cpu:.1f}, median "
        f"{_ms(statistics.median(b.steady_latency)):.0f} ms (floor "
        f"{_ms(statistics.median(f.steady_latency)):.0f} ms), max "
        f"{_ms(max(b.steady_latency)):.0f} ms (floor {_ms(max(f.steady_latency)):.0f} ms)"
    )
    print(
        f"saturated: {throughput:.1f} updates/s (floor {floor_throughput:.1f}), p99 "
        f"{_ms(p99(b.burst_latency)):.0f} ms (floor {_ms(p99(f.burst_latency)):.0f} ms)"
    )
    if onboarding_line:
        print(onboarding_line)
    print(
        f"commands: cpu_ms_per_update={cpu:.2f} floor_cpu_ms_per_update={floor_cpu:.2f} "
        f"p99_ms={_ms(p99(b.steady_latency)):.0f} floor_p99_ms={_ms(p99(f.steady_latency)):.0f} "
        f"throughput_ratio={throughput / floor_throughput:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rate", type=float, default=10, help="steady updates a second")
    parser.add_argument("--steady", type=int, default=100, help="steady updates a round and side")
    parser.add_argument("--burst", type=int, default=100, help="saturated updates a command")
    parser.add_argument("--onboardings", type=int, default=0, help="people onboarding at once")
    args = parser.parse_args()
    # As `python -m bot run` does once its imports are done (bot/heap.py): both sides run in
    # this process, so both are spared full collections over the import-time objects.
    freeze_after_imports()
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
