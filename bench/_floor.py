"""The floor for bench/broadcast.py: bare aiogram `send_message` calls at the sender's rate, the
same message, the same emulator — no outbox, no limiter, no database, and nothing of `bot`
imported, so its peak RSS is what aiogram itself (with aiohttp and pydantic) costs. Not for
direct use.

It starts, sends one warm-up message (connection, reply models) and prints `{"ready": true}`.
Then each line on stdin is a slice to send: `COUNT MAX_IN_FLIGHT`. COUNT messages go out on an
absolute schedule at --rate, to new chats from --first-chat on, with at most MAX_IN_FLIGHT
requests in flight (the cap the sender reported for itself: a send waits for a free slot, as
the sender's does); when all are answered it prints one JSON line of running totals:
`{"messages", "cpu_s", "peak_rss_mb", "in_flight_max"}`. CPU is of the slices only. EOF ends it.

Like the bot's transport it holds aiogram's reply model built (pydantic caches the generic
`Response[Message]` only weakly; rebuilding it costs ~10 ms whenever the collector drops it):
the floor is what aiogram needs at best, not a cost the bot avoids and the floor pays.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import time

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.methods import Response
from aiogram.types import InlineKeyboardMarkup, LinkPreviewOptions, Message, MessageEntity

TOKEN = "123456789:AAEhBOweik6ad9r_QXMENQjcrGbqCr4K-ac"
_REPLY_MODEL = Response[Message]


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _say(line: dict[str, object]) -> None:
    print(json.dumps(line), flush=True)


async def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--api", required=True)
    parser.add_argument("--rate", type=float, required=True)
    parser.add_argument("--first-chat", type=int, required=True)
    parser.add_argument(
        "--message", required=True, help="JSON: {text, entities[, reply_markup, link_preview]}"
    )
    parser.add_argument("--paid", action="store_true", help="allow_paid_broadcast, as the sender")
    args = parser.parse_args(argv)
    message = json.loads(args.message)
    session = AiohttpSession(api=TelegramAPIServer.from_base(args.api))
    bot = Bot(TOKEN, session=session, default=DefaultBotProperties(link_preview_is_disabled=True))
    entities = [MessageEntity.model_validate(e) for e in message["entities"]]
    preview = LinkPreviewOptions.model_validate(message.get("link_preview", {"is_disabled": True}))
    markup = (
        InlineKeyboardMarkup.model_validate(message["reply_markup"])
        if "reply_markup" in message
        else None
    )
    paid = True if args.paid else None
    chat = args.first_chat
    messages = 0
    cpu_s = 0.0
    in_flight = in_flight_max = 0

    async def send(chat_id: int, slots: asyncio.Semaphore | None = None) -> None:
        nonlocal in_flight, in_flight_max
        in_flight += 1
        in_flight_max = max(in_flight_max, in_flight)
        try:
            await bot.send_message(
                chat_id=chat_id,
                text=message["text"],
                parse_mode=None,
                entities=entities,
                link_preview_options=preview,
                allow_paid_broadcast=paid,
                reply_markup=markup,
            )
        finally:
            in_flight -= 1
            if slots is not None:
                slots.release()

    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    try:
        await send(chat - 1)  # warm up
        leaked = sorted(m for m in sys.modules if m == "bot" or m.startswith("bot."))
        assert not leaked, f"the floor must not import the bot: {leaked}"
        in_flight_max = 0
        _say({"ready": True})
        async for raw in reader:
            count, cap = (int(word) for word in raw.split())
            slots = asyncio.Semaphore(cap)
            tasks: set[asyncio.Task[None]] = set()
            cpu0 = _cpu()
            start = time.monotonic()
            for i in range(count):  # an absolute schedule: no drift, no limiter
                delay = start + i / args.rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                await slots.acquire()
                task = asyncio.create_task(send(chat, slots))
                chat += 1
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            if tasks:
                await asyncio.wait(tasks)
            cpu_s += _cpu() - cpu0
            messages += count
            rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            _say(
                {
                    "messages": messages,
                    "cpu_s": round(cpu_s, 4),
                    "peak_rss_mb": round(rss_mb, 1),
                    "in_flight_max": in_flight_max,
                }
            )
    finally:
        await bot.session.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
