"""What every test reads: the emulator, the harness, helpers and fixtures, all inside the repo."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
FEED_FIXTURES = FIXTURES / "feeds"
PLAN_2021 = FIXTURES / "plan" / "plan-2021-2022.txt"
