"""One-line structured logs that never carry the bot token."""

from __future__ import annotations

import logging
import re
import sys
from datetime import UTC, datetime
from urllib.parse import quote

# Anything that looks like a Bot API token, even one we were not told about: on its own, inside
# a request URL (`/bot123456:AAE…/getMe`, where no word boundary precedes the digits) and with
# the colon url-encoded once or twice (`123456%3AAAE…`, `123456%253AAAE…`).
_TOKEN_LIKE = re.compile(r"(?<!\d)\d{5,}(?::|%3A|%253A)[A-Za-z0-9_-]{30,}", re.IGNORECASE)


def redact(text: str, secrets: tuple[str, ...] = ()) -> str:
    """`text` with the given secrets (also url-encoded) and anything token-like masked."""
    for secret in secrets:
        if secret:
            for form in {secret, quote(secret, safe=""), quote(quote(secret, safe=""), safe="")}:
                text = text.replace(form, "***")
    return _TOKEN_LIKE.sub("***", text)


class RedactingFormatter(logging.Formatter):
    """`ts level logger msg key=value…`; tracebacks folded onto the same line, tokens masked."""

    def __init__(self, secrets: tuple[str, ...] = ()) -> None:
        super().__init__()
        self._secrets = tuple(s for s in secrets if s)

    def redact(self, text: str) -> str:
        return redact(text, self._secrets)

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
