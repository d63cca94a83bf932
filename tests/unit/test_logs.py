import logging

from bot.logs import RedactingFormatter

TOKEN = "123456789:AAEhBOweik6ad9r_QXMENQjcrGbqCr4K-ac"


def record(message: str, *args: object, exc: BaseException | None = None) -> logging.LogRecord:
    exc_info = (type(exc), exc, exc.__traceback__) if exc else None
    return logging.LogRecord("bot", logging.ERROR, __file__, 1, message, args, exc_info)


def test_token_never_reaches_a_log_line() -> None:
    formatter = RedactingFormatter(secrets=(TOKEN,))
    try:
        raise RuntimeError(f"POST https://api.telegram.org/bot{TOKEN}/getMe failed")
    except RuntimeError as exc:
        line = formatter.format(record("request failed for %s", TOKEN, exc=exc))
    assert TOKEN not in line
    assert "123456789:" not in line
    assert "***" in line
    assert "\n" not in line


def test_unknown_token_shapes_are_masked_too() -> None:
    other = "987654321:ZZEhBOweik6ad9r_QXMENQjcrGbqCr4K-zz"
    line = RedactingFormatter().format(record("leaked %s", other))
    assert other not in line
