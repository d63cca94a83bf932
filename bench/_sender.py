"""The sender process of bench/broadcast.py: the production Sender, alone, until the outbox is
drained. Prints a JSON line of figures every --report-every seconds and a last one with
"final": true. Not for direct use.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import time

from bot.app import build_bot
from bot.config import load_settings
from bot.delivery.engine import Sender
from bot.storage.campaigns import CampaignRepository
from bot.storage.db import create_engine
from bot.telegram.transport import TelegramTransport

TOKEN = "123456789:AAEhBOweik6ad9r_QXMENQjcrGbqCr4K-ac"


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _report(sender: Sender, cpu0: float, started: float, **extra: object) -> None:
    stats = sender.stats
    line = {
        "elapsed": round(time.monotonic() - started, 3),
        "cpu_s": round(_cpu() - cpu0, 4),
        "messages": stats.messages,
        "sent": stats.sent,
        "retry_after": stats.retry_after,
        "in_flight_max": stats.in_flight_max,
        "window_max": stats.window_max,
        "flushes": stats.flushes,
        "progress_edits": stats.progress_edits,
        "unrecorded_at_start": stats.unrecorded_at_start,
        "max_in_flight": sender._max_in_flight,  # its cap: the floor is held to the same
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        **extra,
    }
    print(json.dumps(line), flush=True)


async def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--api", required=True)
    parser.add_argument("--rate", type=float, required=True)
    parser.add_argument("--report-every", type=float, default=0.5)
    args = parser.parse_args(argv)

    settings = load_settings(
        bot_token=TOKEN,
        telegram_api_base=args.api,
        database_url=args.database_url,
        send_rate=args.rate,
        quiet_hours="",
        _env_file=None,
    )
    engine = create_engine(settings.database_url)
    campaigns = CampaignRepository(engine)
    bot = build_bot(settings)
    sender = Sender(settings, engine)
    started = time.monotonic()
    cpu0 = _cpu()
    sender.start(TelegramTransport.from_settings(bot, settings))
    _report(sender, cpu0, started)  # at once: the bench reads the in-flight cap from it
    try:
        while True:
            await asyncio.sleep(args.report_every)
            _report(sender, cpu0, started)
            if sender.idle and not await campaigns.in_progress():
                break
        await sender.stop()
        _report(sender, cpu0, started, final=True)
    finally:
        await bot.session.close()
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
