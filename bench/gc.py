"""Garbage-collection pauses of the running bot's heap: `python -m bench.gc --runs 5`.

A child process imports what `python -m bot run` imports and builds the dispatcher with all its
routers (the import-time heap of aiogram, pydantic, SQLAlchemy and the bot), then times full
collections (`gc.collect()`, generation 2) — first as the heap is, then after
`bot.heap.freeze_after_imports()`, which the bot calls at start-up. Each measurement is the
median of several collections; children alternate so both halves see the same machine.

Last line: `gc: tracked=… frozen=… frozen_tracked=… full_pause_ms=… frozen_full_pause_ms=…`
(tracked = objects a full collection walks; after the freeze only what the bot makes later is
walked, so the frozen pause grows with the bot's own live objects, not with its imports).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

CHILD = """
import gc, json, statistics, time
from bot.config import load_settings
from bot.storage.db import create_engine
from bot.app import build_dispatcher
from bot.heap import freeze_after_imports

settings = load_settings(_env_file=None, database_url="sqlite+aiosqlite:///{db}")
dp = build_dispatcher(settings, create_engine(settings.database_url), with_timetable=False)

def pause() -> float:
    times = []
    for _ in range(7):
        start = time.perf_counter()
        gc.collect()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000

gc.collect()
result = {{"tracked": len(gc.get_objects()), "pause_ms": pause()}}
freeze_after_imports()
result |= {{
    "frozen": gc.get_freeze_count(),
    "frozen_tracked": len(gc.get_objects()),
    "frozen_pause_ms": pause(),
}}
print(json.dumps(result))
"""


def measure(db: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD.format(db=db)],
        cwd=REPO, capture_output=True, text=True, check=True,
    )  # fmt: skip
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        runs = [measure(Path(tmp) / "gc.db") for _ in range(args.runs)]
    for i, run in enumerate(runs, 1):
        print(
            f"run {i}: tracked {run['tracked']:.0f} → {run['frozen_tracked']:.0f} "
            f"({run['frozen']:.0f} frozen), "
            f"full collection {run['pause_ms']:.1f} ms → {run['frozen_pause_ms']:.1f} ms"
        )

    def median(key: str) -> float:
        return statistics.median(run[key] for run in runs)

    pause, frozen = median("pause_ms"), median("frozen_pause_ms")
    print(
        f"gc: tracked={median('tracked'):.0f} frozen={median('frozen'):.0f} "
        f"frozen_tracked={median('frozen_tracked'):.0f} "
        f"full_pause_ms={pause:.1f} frozen_full_pause_ms={frozen:.2f}"
    )


if __name__ == "__main__":
    main()
