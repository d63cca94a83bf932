"""Fixtures for every scope; the harness itself lives in tests/support/."""

from tests.support.harness import emu, running_bot

__all__ = ["emu", "running_bot"]
