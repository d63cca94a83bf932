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


def test_a_token_inside_a_request_url_is_masked() -> None:
    """aiohttp's errors carry the request URL: `/bot<token>/getMe` has no word boundary before
    the digits, so the bare-token pattern alone missed it."""
    other = "987654321:ZZEhBOweik6ad9r_QXMENQjcrGbqCr4K-zz"
    message = (
        "TooManyRedirects: 0, message='Too many redirects', "
        f"url='https://api.telegram.org/bot{other}/getMe'"
    )
    line = RedactingFormatter().format(record("%s", message))
    assert other not in line and other.split(":")[1] not in line
    assert "url='https://api.telegram.org/bot***/getMe'" in line


def test_url_encoded_tokens_are_masked() -> None:
    secret_part = TOKEN.split(":")[1]
    for form in (TOKEN.replace(":", "%3A"), TOKEN.replace(":", "%3a"),
                 TOKEN.replace(":", "%253A")):  # fmt: skip
        line = RedactingFormatter().format(record("GET /file/bot%s/x", form))
        assert secret_part not in line, form


def test_redact_masks_a_known_secret_in_any_text() -> None:
    from bot.logs import redact

    text = f"Не удалось связаться: url='http://127.0.0.1:8081/bot{TOKEN}/getMe'"
    assert (
        redact(text, (TOKEN,)) == "Не удалось связаться: url='http://127.0.0.1:8081/bot***/getMe'"
    )
    # The port in front of the path is not mistaken for a token.
    assert "127.0.0.1:8081" in redact(text)
