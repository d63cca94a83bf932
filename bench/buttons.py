"""A burst of button presses: N people onboard at once, five taps each, through the real bot.

    python -m bench.buttons --people 500

The real dispatcher polls the Bot API emulator on 127.0.0.1 with a fresh SQLite database. Every
person sends /start at the same moment and taps through onboarding (role, organisation kind,
«Пропустить», «Готово», frequency), each tap as soon as the previous step is on screen. Telegram
expires a press it has had no answer to after about 15 s, and the button spins until then.

Figures: how long after a press its answerCallbackQuery arrived (median, 95th percentile,
maximum, presses over 10 s), how long until the press's result was on screen (the edit), and
presses answered other than exactly once. The last line:

    buttons: people=… presses=… answer_p50_ms=… answer_p95_ms=… answer_max_ms=…
        over_10s=… shown_p95_ms=… shown_max_ms=… answered_not_once=…
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bot.telegram import middlewares
from tests.support.emulator import BotAPIEmulator
from tests.support.harness import bot_running

FIRST_USER = 2_000_000
STEPS = ("Согласен", "Педагог", "Школа", "Пропустить", "Готово", "Раз в неделю")
PATIENCE = 300.0  # seconds a person waits for a step before the run is declared stuck


async def onboard(
    emu: BotAPIEmulator, user_id: int, answers: list[float], shown: list[float]
) -> None:
    emu.user(user_id, first_name="Педагог")
    start = len(emu.calls)
    emu.send_message(user_id, "/start")
    call = await emu.wait_for(
        lambda c: (
            c.method == "sendMessage" and c.chat_id == user_id and "reply_markup" in c.params
        ),
        timeout=PATIENCE,
        after=start,
    )
    message: dict[str, Any] = call.result
    message_id = message["message_id"]  # every step edits the same message
    for label in STEPS:
        data = emu.button_data(message, label)
        after = len(emu.calls)
        pressed = time.monotonic()
        query_id = emu.press(user_id, message, data)
        answer = await emu.answer_to(query_id, timeout=PATIENCE)
        answers.append(answer.at - pressed)
        edit = await emu.wait_for(
            lambda c: (
                c.method in {"editMessageText", "editMessageReplyMarkup"}
                and c.chat_id == user_id
                and c.params.get("message_id") == message_id
            ),
            timeout=PATIENCE,
            after=after,
        )
        shown.append(edit.at - pressed)
        message = emu.message(user_id, message_id)


def _ms(seconds: float) -> int:
    return round(seconds * 1000)


async def run(people: int) -> None:
    logging.basicConfig(level=logging.WARNING)
    answers: list[float] = []
    shown: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        async with BotAPIEmulator() as emu, bot_running(emu, Path(tmp)):
            started = time.monotonic()
            await asyncio.gather(
                *(onboard(emu, FIRST_USER + n, answers, shown) for n in range(people))
            )
            elapsed = time.monotonic() - started
            counts = Counter(
                str(c.params.get("callback_query_id"))
                for c in emu.calls
                if c.method == "answerCallbackQuery"
            )
            presses = len(answers)
            not_once = presses - sum(1 for n in counts.values() if n == 1)
    answers.sort()
    shown.sort()
    p95 = answers[int(0.95 * (presses - 1))]
    shown_p95 = shown[int(0.95 * (presses - 1))]
    over = sum(1 for a in answers if a > 10)
    print(f"{people} people, {presses} presses in {elapsed:.1f} s")
    print(
        f"answer: median {_ms(statistics.median(answers))} ms, p95 {_ms(p95)} ms, "
        f"max {_ms(answers[-1])} ms, over 10 s: {over}"
    )
    print(f"on screen: p95 {_ms(shown_p95)} ms, max {_ms(shown[-1])} ms")
    print(
        f"buttons: people={people} presses={presses} "
        f"answer_p50_ms={_ms(statistics.median(answers))} answer_p95_ms={_ms(p95)} "
        f"answer_max_ms={_ms(answers[-1])} over_10s={over} shown_p95_ms={_ms(shown_p95)} "
        f"shown_max_ms={_ms(shown[-1])} answered_not_once={not_once}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=500)
    parser.add_argument(
        "--answer-within",
        type=float,
        default=middlewares.ANSWER_WITHIN,
        help="seconds before the guard answers a press for its handler (1e9: no guard)",
    )
    args = parser.parse_args()
    middlewares.ANSWER_WITHIN = args.answer_within
    asyncio.run(run(args.people))


if __name__ == "__main__":
    main()
