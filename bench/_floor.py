"""The floor for bench/broadcast.py's CPU figure: bare aiogram `send_message` calls at the same
rate, the same message, the same emulator — no outbox, no limiter, no database. Prints one JSON
line. Not for direct use.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import time

from aiogram.types import LinkPreviewOptions, MessageEntity

from bot.app import build_bot
from bot.config import load_settings

TOKEN = "123456789:AAEhBOweik6ad9r_QXMENQjcrGbqCr4K-ac"


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--api", required=True)
    parser.add_argument("--rate", type=float, required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--first-chat", type=int, required=True)
    parser.add_argument("--message", required=True, help="JSON: {text, entities}")
    args = parser.parse_args(argv)
    message = json.loads(args.message)
    settings = load_settings(bot_token=TOKEN, telegram_api_base=args.api, _env_file=None)
    bot = build_bot(settings)
    entities = [MessageEntity.model_validate(e) for e in message["entities"]]
    preview = LinkPreviewOptions(is_disabled=True)

    async def send(chat_id: int) -> None:
        await bot.send_message(
            chat_id, message["text"], entities=entities, link_preview_options=preview
        )

    try:
        await send(args.first_chat - 1)  # warm up: connection, reply models
        tasks: set[asyncio.Task[None]] = set()
        cpu0 = _cpu()
        start = time.monotonic()
        for i in range(args.count):  # on an absolute schedule: no drift, no limiter
            delay = start + i / args.rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            task = asyncio.create_task(send(args.first_chat + i))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if tasks:
            await asyncio.wait(tasks)
        cpu = _cpu() - cpu0
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        figures = {"messages": args.count, "cpu_ms_per_msg": 1000 * cpu / args.count}
        print(json.dumps({**figures, "peak_rss_mb": rss_mb}))
    finally:
        await bot.session.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
