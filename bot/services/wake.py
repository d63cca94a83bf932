"""How services tell the delivery engine that new work is in the outbox."""

from __future__ import annotations

from collections.abc import Callable

Wake = Callable[[], None]
"""Called after a campaign is created: the engine would find it on its next look anyway; waking
only makes it start at once. Services get this callable, never the engine itself."""


def no_wake() -> None:
    """For services built without an engine (the CLI, tests)."""
