"""What the broadcast engine needs from a messenger: the `Transport` protocol and its outcomes.

The engine decides (retry, back off, pause, give up, block the subscriber); the transport only
talks to its messenger and says what happened, in these plain terms. Telegram's adapter is
`bot.telegram.transport.TelegramTransport`; another messenger (MAX) is one more class with the
same three methods, its own limits and its own message ids (always strings here, as stored in
`deliveries.message_id`).

A transport returns an outcome for every answer its messenger gives, and raises only for a bug
(the engine logs it and fails that delivery without retrying).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from bot.content.models import MessagePart


class Outcome(StrEnum):
    SENT = "sent"  # delivered (or edited); `message_id` is the messenger's id of the message
    NOT_MODIFIED = "not_modified"  # an edit found the message already showing it: done
    RETRY_AFTER = "retry_after"  # flood control: pause everything, then send the same again
    BLOCKED = "blocked"  # the recipient blocked the bot or the chat is gone: never again
    TRANSIENT = "transient"  # network, timeout, 5xx: back off and retry, up to the allowed tries
    # A request the messenger will never accept — including an edit of a message it no longer
    # lets us edit (gone, or too old): give up now.
    PERMANENT = "failed"
    HALT = "halt"  # our credentials are rejected: stop sending for a while, blame nobody


# The outcomes under their older names (the engine's error policy speaks of these).
RETRY_AFTER = Outcome.RETRY_AFTER
BLOCKED = Outcome.BLOCKED
TRANSIENT = Outcome.TRANSIENT
FAILED = Outcome.PERMANENT
HALT = Outcome.HALT


@dataclass(frozen=True, slots=True)
class Result:
    """One answer of the messenger. `error` says why for a failure; `retry_after` is the
    seconds flood control asks to wait."""

    outcome: Outcome
    message_id: str | None = None
    error: str = ""
    retry_after: float = 0.0

    @classmethod
    def sent(cls, message_id: str) -> Result:
        return cls(Outcome.SENT, message_id=message_id)

    @classmethod
    def not_modified(cls) -> Result:
        return cls(Outcome.NOT_MODIFIED, error="message is not modified")

    @classmethod
    def blocked(cls, error: str) -> Result:
        return cls(Outcome.BLOCKED, error=error)

    @classmethod
    def wait(cls, seconds: float, error: str = "retry later") -> Result:
        return cls(Outcome.RETRY_AFTER, error=error, retry_after=seconds)

    @classmethod
    def transient(cls, error: str) -> Result:
        return cls(Outcome.TRANSIENT, error=error)

    @classmethod
    def permanent(cls, error: str) -> Result:
        return cls(Outcome.PERMANENT, error=error)

    @classmethod
    def halt(cls, error: str) -> Result:
        return cls(Outcome.HALT, error=error)

    @property
    def done(self) -> bool:
        """The message is (now) what it should be."""
        return self.outcome in (Outcome.SENT, Outcome.NOT_MODIFIED)


Verdict = Result  # what the error policy calls a failed send's result


@dataclass(frozen=True, slots=True)
class Limits:
    """A messenger's sending limits: messages a second overall, and the least interval
    between two messages to the same chat (counted from the reply to the previous one)."""

    rate: float
    per_chat_interval: float


class Transport(Protocol):
    """A messenger as the broadcast engine and the previews use it."""

    @property
    def limits(self) -> Limits: ...

    async def send(self, chat_id: int, part: MessagePart) -> Result:
        """Send one message part (a text, or a file with the text as its caption)."""
        ...

    async def edit(self, chat_id: int, message_id: str, part: MessagePart) -> Result:
        """Make the sent message `message_id` show `part` (a file's message: its caption).
        Already showing it is NOT_MODIFIED; a message that can no longer be edited is
        PERMANENT."""
        ...
