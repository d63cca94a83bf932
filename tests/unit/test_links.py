"""Links checked the way Telegram parses them: what it would refuse is None, what it accepts
comes back in the form to send."""

from __future__ import annotations

import pytest

from bot.content.feeds import render_html, web_url
from bot.content.links import telegram_url

GOOD = {
    "https://imc.example.ru/infozona": "https://imc.example.ru/infozona",
    "http://school5.spb.ru": "http://school5.spb.ru",
    "HTTPS://School5.SPB.ru/News?id=1#top": "https://school5.spb.ru/News?id=1#top",
    "https://пример.рф/путь": "https://xn--e1afmkfd.xn--p1ai/%D0%BF%D1%83%D1%82%D1%8C",
    "http://example.com/a b?q=x y": "http://example.com/a%20b?q=x%20y",
    "https://example.com/%D0%BF": "https://example.com/%D0%BF",  # already encoded: kept
    "https://example.com:8443/x": "https://example.com:8443/x",
    "http://192.168.0.10/plan.pdf": "http://192.168.0.10/plan.pdf",
    "http://[2001:db8::1]:8080/": "http://[2001:db8::1]:8080/",
    "https://my_site.example.ru/": "https://my_site.example.ru/",
    "  https://example.com/  ": "https://example.com/",
}
BAD = [
    "http://exa mple.com/a b",  # a space in the host
    "ftp://example.com/file",
    "javascript:alert(1)",
    "mailto:imc@example.ru",
    "tg://resolve?domain=infozona",
    "https://localhost/",  # Telegram wants a dot
    "https://grammy",
    "http://example..com/",  # an empty label
    "http://.example.com/",
    "http://-school.example.ru/",
    "http://exa$mple.com/",
    "http://example.com:0/",
    "http://example.com:70000/",
    "http://example.com:port/",
    "http://example.com:/",
    "http://user:secret@example.com/",
    "http://example.com/a\nb",  # control characters anywhere
    "http://example.com/\x00",
    "http://999.1.1.1/",
    "http://[::zz]/",
    "https:///path",
    "",
    None,
    "https://example.com/" + "a" * 1000,  # longer than the column
]


@pytest.mark.parametrize(("url", "expected"), GOOD.items(), ids=list(GOOD))
def test_links_telegram_accepts(url: str, expected: str) -> None:
    assert telegram_url(url) == expected


@pytest.mark.parametrize("url", BAD, ids=[repr(u)[:40] for u in BAD])
def test_links_telegram_would_refuse(url: str | None) -> None:
    assert telegram_url(url) is None


def test_feed_links_are_checked_after_resolving() -> None:
    assert (
        web_url("/news/1 2", "https://пример.рф/rss") == "https://xn--e1afmkfd.xn--p1ai/news/1%202"
    )
    assert web_url("http://exa mple.com/a b", "https://school.example.ru/") is None
    rendered = render_html("<a href='http://exa mple.com/a b'>ссылка</a> и текст")
    assert rendered.text == "ссылка и текст" and rendered.entities == ()
