"""Numbers that come from outside — typed after a command or carried back by a button — checked
against what the database can hold before they go anywhere near it."""

from __future__ import annotations

# SQLite's INTEGER and PostgreSQL's BIGINT: a larger value makes the driver raise.
DB_INT_MAX = 2**63 - 1
_DIGITS_MAX = len(str(DB_INT_MAX))


def is_number(text: str) -> bool:
    """ASCII digits only («12»): not «-1», «1.5», «١٢» or «²» (str.isdigit accepts those two)."""
    return text.isascii() and text.isdigit()


def parse_id(text: str) -> int | None:
    """A record's number as typed: ASCII digits, 1 ≤ n ≤ DB_INT_MAX; else None.

    Ids are positive, so 0 and anything past the database's integers can't name a record."""
    text = text.strip()
    if not is_number(text) or len(text.lstrip("0")) > _DIGITS_MAX:
        return None
    number = int(text)
    return number if 1 <= number <= DB_INT_MAX else None
