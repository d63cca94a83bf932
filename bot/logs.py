"""One-line structured logs that never carry the bot token."""

from __future__ import annotations

import logging
import re
import sys
from datetime import UTC, datetime

# Anything that looks like a Bot API token, even one we were not told about.
_TOKEN_LIKE = re.compile(r"\b\d{5,}:[A-Za-z0-9_-]{30,}\b")


class RedactingFormatter(logging.Formatter):
    """`ts level logger msg key=value…`; tracebacks folded onto the same line, tokens masked."""

    def __init__(self, secrets: tuple[str, ...] = ()) -> None:
        super().__init__()
        self._secrets = tuple(s for s in secrets if s)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return _TOKEN_LIKE.sub("***", text)

    def format(self, record: logging.LogRecord) -> str:
        ts = datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
        line = f"{ts}Z {record.levelname} {record.name} {record.getMessage()}"
        if record.exc_info:
            line += " | " + self.formatException(record.exc_info).replace("\n", " | ")
        elif record.exc_text:
            line += " | " + record.exc_text.replace("\n", " | ")
        return self.redact(line)


def setup_logging(level: str, secrets: tuple[str, ...] = ()) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter(secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        if isinstance(old.formatter, RedactingFormatter):  # ours from an earlier call
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # aiogram's per-update lines are too chatty for INFO with thousands of subscribers.
    if level != "DEBUG":
        logging.getLogger("aiogram.event").setLevel(logging.WARNING)
        # Alembic narrates every start ("Context impl SQLiteImpl…"); only its problems matter.
        logging.getLogger("alembic").setLevel(logging.WARNING)
