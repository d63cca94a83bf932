"""Web links as Telegram accepts them in a text link, a button or a post.

Telegram refuses a whole message over one link it cannot parse («Bad Request: entity URL
'…' is invalid: Wrong HTTP URL»), so every link the bot builds from outside data (feeds, the
plan, editors' text) goes through `telegram_url` first: a link it rejects is left out (its text
stays plain), and one it accepts is sent in the form it returns.

What is accepted: http or https; a host of dot-separated labels, each of letters, digits,
hyphens or underscores (a Cyrillic domain is written in punycode, «пример.рф» →
«xn--e1afmkfd.xn--p1ai»), at least two labels, or an IP address; a port from 1 to 65535; no
user name or password. Spaces and non-ASCII characters of the path, query and fragment are
percent-encoded; control characters anywhere, or any space or stray character in the host,
make the link unusable.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import quote, urlsplit

URL_MAX = 1000  # items.url, items.image_url

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff]")
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?")
# Characters kept as they are in the path, query and fragment: RFC 3986's unreserved and
# reserved ones, and «%» (already encoded sequences stay). Everything else is encoded.
_SAFE = "-._~:/?#[]@!$&'()*+,;=%"


def _host(host: str) -> str | None:
    """The host in ASCII (IDNA for a Cyrillic domain), or None if Telegram would refuse it."""
    if not host or len(host) > 253:
        return None
    if host.startswith("["):
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            return None
        return host if host.endswith("]") else None
    labels = host.rstrip(".").split(".")
    ascii_labels: list[str] = []
    for label in labels:
        if not label or any(c.isspace() for c in label):
            return None
        if not label.isascii():
            try:
                label = label.encode("idna").decode("ascii")
            except UnicodeError:
                return None
        label = label.lower()
        if len(label) > 63 or not _LABEL.fullmatch(label):
            return None
        ascii_labels.append(label)
    if all(label.isdigit() for label in ascii_labels):
        try:
            ipaddress.IPv4Address(".".join(ascii_labels))
        except ValueError:
            return None
    elif len(ascii_labels) < 2:
        return None  # «http://localhost/», «http://grammy»: Telegram wants a dot
    return ".".join(ascii_labels)


def telegram_url(url: str | None) -> str | None:
    """`url` as Telegram parses a link, percent-encoded where needed; None if it can't be."""
    if not url:
        return None
    url = url.strip()
    if not url or _CONTROL.search(url):
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # a bad port, an unbalanced «[»
        return None
    if parts.scheme.lower() not in {"http", "https"}:
        return None
    netloc = parts.netloc
    if not netloc or "@" in netloc or any(c.isspace() for c in netloc):
        return None
    host_text = netloc.rsplit(":", 1)[0] if port is not None or netloc.endswith(":") else netloc
    host = _host(host_text)
    if host is None or (port is not None and not 1 <= port <= 65535):
        return None
    if netloc.endswith(":") and port is None:
        return None  # «http://example.com:/»
    result = f"{parts.scheme.lower()}://{host}" + (f":{port}" if port is not None else "")
    result += quote(parts.path, safe=_SAFE)
    if parts.query:
        result += "?" + quote(parts.query, safe=_SAFE)
    if parts.fragment:
        result += "#" + quote(parts.fragment, safe=_SAFE)
    return result if len(result) <= URL_MAX else None
