"""Russian search over titles and bodies: words reduced to Snowball stems.

«инновационный» and «инновационные» share the stem «инновацион», so either finds the other.
Stems are stored beside each item (items.search_stems) and matched with LIKE, which runs the
same on SQLite and PostgreSQL; the district's few thousand items need nothing heavier.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import snowballstemmer

_WORD = re.compile(r"[0-9a-zа-я]+", re.IGNORECASE)
# Words too common to narrow a search.
_STOP = frozenset(
    {
        "и", "в", "во", "на", "с", "со", "к", "ко", "по", "о", "об", "от", "до", "за", "из",
        "у", "не", "ни", "а", "но", "или", "для", "при", "про", "как", "что", "это", "то",
        "же", "ли", "бы", "был", "была", "были", "быть", "the", "a", "of", "and",
    }
)  # fmt: skip


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    return snowballstemmer.stemmer("russian")


@lru_cache(maxsize=100_000)
def _stem(word: str) -> str:
    """Words repeat a lot across a district's texts: each is stemmed once."""
    stem: str = _stemmer().stemWord(word)
    return stem


def stems(text: str) -> list[str]:
    """The text's search stems, in order, without stop words and one-letter words."""
    words = (w for w in _WORD.findall(text.lower().replace("ё", "е")) if w not in _STOP)
    return [s for s in map(_stem, words) if len(s) > 1]


def search_document(*texts: str | None) -> str:
    """What is stored for an item: its distinct stems between spaces (« stem1 stem2 »)."""
    seen: dict[str, None] = {}
    for text in texts:
        for stem in stems(text or ""):
            seen.setdefault(stem, None)
    return " " + " ".join(seen) + " " if seen else ""


def query_patterns(query: str) -> list[str]:
    """LIKE patterns, one per query word: each must start a stored stem (prefix search)."""
    return [f"% {stem}%" for stem in dict.fromkeys(stems(query))]
