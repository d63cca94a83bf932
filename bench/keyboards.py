"""What each keyboard of bot/telegram/keyboards.py costs to build: `python -m bench.keyboards`.

Every keyboard function is called with typical arguments (a /settings menu, an onboarding step,
a /next answer of five entries with «Ещё», a queue card in the middle of the queue...) and timed
per call. The floor is the same markup built directly from its final texts and packed callback
data: `InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text=…, callback_data=…)]])`,
the least any code can pay for a fresh markup of that shape (a cached keyboard can cost less:
it is not built at all). Each figure is the best of --repeats timings of a loop of about
--seconds seconds, so other processes on the machine raise it as little as possible.

Per keyboard: `name: us_per_call=… floor_us_per_call=… ratio=…`; the last line:

    keyboards: worst_ratio=… total_us=… floor_total_us=… worst=…

(worst_ratio: the highest us_per_call / floor_us_per_call, of the keyboard named by worst=; the
totals are the sums over the keyboards, one call each).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.content.models import (
    Frequency,
    ItemKind,
    OrgKind,
    Role,
    Subscriber,
    SubscriberStatus,
    Topic,
)
from bot.telegram import keyboards as kb
from bot.telegram.callbacks import Action, Flow, NewStage, QueueAction, Shelf

SUBSCRIBER = Subscriber(
    chat_id=1, name="u1", username=None, role=Role.TEACHER, org_kind=OrgKind.SCHOOL, org_name=None
)
PAUSED = Subscriber(
    chat_id=2, name="u2", username=None, role=Role.HEAD, org_kind=OrgKind.SCHOOL, org_name=None,
    status=SubscriberStatus.PAUSED,
)  # fmt: skip
FEEDS = [(n, f"Лента сайта школы № {n}") for n in range(1, 11)]

Keyboard = Callable[[], InlineKeyboardMarkup | None]

CASES: list[tuple[str, Keyboard]] = [
    ("roles", lambda: kb.roles(Flow.ONBOARDING)),
    ("roles_settings", lambda: kb.roles(Flow.SETTINGS, Role.TEACHER)),
    ("org_kinds", lambda: kb.org_kinds(Flow.ONBOARDING)),
    ("org_kinds_settings", lambda: kb.org_kinds(Flow.SETTINGS, OrgKind.SCHOOL)),
    ("org_name", lambda: kb.org_name(Flow.ONBOARDING)),
    ("topics", lambda: kb.topics(Flow.SETTINGS, frozenset({Topic.EVENTS, Topic.CASES}))),
    ("frequencies", lambda: kb.frequencies(Flow.ONBOARDING)),
    ("frequencies_settings", lambda: kb.frequencies(Flow.SETTINGS, Frequency.WEEKLY)),
    ("settings_menu", lambda: kb.settings_menu(SUBSCRIBER)),
    ("settings_menu_paused", lambda: kb.settings_menu(PAUSED)),
    ("confirm", lambda: kb.confirm(Action.STOP, "Да", "Нет")),
    ("confirm_stop", kb.confirm_stop),
    ("confirm_forget", kb.confirm_forget),
    ("card", lambda: kb.card(Shelf.MATERIALS, 3, 10, 1234, votes=True)),
    ("queue_card", lambda: kb.queue_card(1234, 3, 10, approvable=True, kind=ItemKind.MATERIAL)),
    ("queue_confirm", lambda: kb.queue_confirm(QueueAction.DELETE, 1234, 3)),
    ("new_kinds", kb.new_kinds),
    ("new_step", lambda: kb.new_step(NewStage.PLACE, skip=True, keep=True)),
    ("new_audience", lambda: kb.new_audience(frozenset({Role.TEACHER}), frozenset())),
    ("new_when", kb.new_when),
    ("new_confirm", lambda: kb.new_confirm(True, (NewStage.TEXT, NewStage.AUDIENCE))),
    ("feeds_desk", lambda: kb.feeds_desk(FEEDS)),
    ("feed_card", lambda: kb.feed_card(12, enabled=True, auto_approve=False)),
    ("feed_remove_confirm", lambda: kb.feed_remove_confirm(12)),
    ("feed_back", kb.feed_back),
    ("answer_question", lambda: kb.answer_question(77)),
    ("open_questions", lambda: kb.open_questions([71, 72, 73, 74, 75])),
    ("plan_unresolved", lambda: kb.plan_unresolved((2025, 2026))),
    ("edit_sent", lambda: kb.edit_sent(1234, 2, 340)),
]


@dataclass(frozen=True)
class Figures:
    name: str
    us: float
    floor_us: float


def per_call_us(build: Callable[[], object], seconds: float, repeats: int) -> float:
    """Best over `repeats` of a timed loop of about `seconds` seconds, in microseconds a call."""
    calls = 1
    while True:  # size the loop so one timing takes about `seconds`
        start = time.perf_counter()
        for _ in range(calls):
            build()
        spent = time.perf_counter() - start
        if spent >= seconds / 4:
            break
        calls *= 4
    calls = max(1, int(calls * seconds / spent))
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            build()
        best = min(best, (time.perf_counter() - start) / calls)
    return best * 1e6


def floor_of(markup: InlineKeyboardMarkup | None) -> Callable[[], object]:
    """A direct construction of the same markup: its texts and packed data, known in advance."""
    assert markup is not None, "every case makes a keyboard"
    rows = [[(b.text, b.callback_data) for b in row] for row in markup.inline_keyboard]

    def build() -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup(
            inline_keyboard=[
                [InlineKeyboardButton(text=text, callback_data=data) for text, data in row]
                for row in rows
            ]
        )

    built = build()
    assert built == markup, "the floor builds a different markup"
    return build


def measure(seconds: float, repeats: int) -> list[Figures]:
    figures = []
    for name, build in CASES:
        floor = floor_of(build())
        us = per_call_us(build, seconds, repeats)
        figures.append(Figures(name, us, per_call_us(floor, seconds, repeats)))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=0.05, help="length of one timed loop")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    figures = measure(args.seconds, args.repeats)
    for f in figures:
        print(
            f"{f.name}: us_per_call={f.us:.2f} floor_us_per_call={f.floor_us:.2f} "
            f"ratio={f.us / f.floor_us:.2f}"
        )
    worst = max(figures, key=lambda f: f.us / f.floor_us)
    print(
        f"keyboards: worst_ratio={worst.us / worst.floor_us:.2f} "
        f"total_us={sum(f.us for f in figures):.1f} "
        f"floor_total_us={sum(f.floor_us for f in figures):.1f} worst={worst.name}"
    )


if __name__ == "__main__":
    main()
