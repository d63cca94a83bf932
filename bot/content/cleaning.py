"""Text from the outside world made safe to store, log and send back.

Telegram's JSON can carry what UTF-8 cannot: a lone surrogate arrives as the escape "\\ud800" and
makes every later encode (the database, the log, the reply) raise. Control characters are no
text either. `clean_text` replaces each with one character of the same UTF-16 length, so the
message's entity offsets stay right. Names go further (`clean_name`): no invisible characters
and no bidirectional overrides that turn «Школа» around or hide it.
"""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any

# Lone surrogates (json.loads pairs the proper ones up) and C0/C1 controls but \t and \n.
_UNSAFE = re.compile(r"[\ud800-\udfff]|[\x00-\x08\x0b-\x1f\x7f-\x9f]")
REPLACEMENT = "\ufffd"

# Bidirectional embeddings, overrides and isolates: they reorder the text around them.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Letters and symbols that draw nothing (Hangul fillers, the blank Braille pattern).
BLANKS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def _replacement(match: re.Match[str]) -> str:
    char = match.group()
    return REPLACEMENT if "\ud800" <= char <= "\udfff" else " "


def clean_text(text: str) -> str:
    """Lone surrogates become U+FFFD, control characters (but \\t and \\n) a space."""
    return _UNSAFE.sub(_replacement, text)


# What in a JSON text can decode to something `_UNSAFE` matches: the escapes of surrogates,
# of C0/C1 controls and the short \b \f \r, or such a character written as it is. A few
# harmless things match too (an escaped \t, a surrogate pair, an escaped backslash before b):
# such a document is only walked through in full.
_UNSAFE_IN_JSON = re.compile(
    r"\\u(?:[dD][89a-fA-F]|00[0189]|007[fF])|\\[bfr]|[\ud800-\udfff\x7f-\x9f]"
)


def loads_clean(text: str) -> Any:
    """`json.loads` and `clean_json`; a document with nothing to clean (almost every one)
    isn't walked through."""
    value = json.loads(text)
    return clean_json(value) if _UNSAFE_IN_JSON.search(text) else value


def clean_json(value: Any) -> Any:
    """Every string in a decoded JSON document, keys aside, through `clean_text`."""
    if isinstance(value, str):
        return clean_text(value) if _UNSAFE.search(value) else value
    if isinstance(value, dict):
        return {key: clean_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [clean_json(item) for item in value]
    return value


def clean_name(text: str) -> str:
    """A name as it should be shown: no bidi controls, no invisible format characters
    (zero-width spaces, joiners, marks, soft hyphens), no controls; whitespace collapsed.
    An empty result means there was no name to see."""
    kept = "".join(
        char
        for char in clean_text(text)
        if char not in BIDI_CONTROLS
        and char != REPLACEMENT
        and unicodedata.category(char) not in ("Cf", "Cc", "Co", "Cn")
    )
    name = " ".join(kept.split())
    # Combining marks and blanks alone show nothing: a name needs a letter, digit or sign.
    visible = any(unicodedata.category(c)[0] in "LNPS" and c not in BLANKS for c in name)
    return name if visible else ""
