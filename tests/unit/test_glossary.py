"""One set of words and one voice in everything the bot says (bot/texts.py).

To users: «школа» and «детский сад» (not ДОО/ДОУ), «опыт площадок» for cases (not «кейс»); the
bot speaks for itself as «я» and of the centre as «ИМЦ» (not «мы»); and it never claims it only
understands commands, since it answers words too.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

from bot import texts

FORBIDDEN = {
    r"\bДО[ОУ]\b": "«детский сад», not ДОО/ДОУ",
    r"(?i)\bкейс": "«опыт площадок», not «кейс»",
    r"(?i)(?<![\w-])(?:мы|нас|нам|нами)(?![\w-])": "the bot is «я», the centre «ИМЦ»",
    r"(?i)отвечаю (?:только )?на команды": "the bot answers words too",
}
# Names of organisations as people type them are examples, not the bot's words.
ALLOWED = ("МБДОУ",)


def _literals() -> Iterator[tuple[int, str]]:
    """Every string literal of bot/texts.py with its line, docstrings and comments aside."""
    tree = ast.parse(Path(texts.__file__).read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.FunctionDef | ast.ClassDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    for node in ast.walk(tree):
        if not isinstance(node, ast.Constant) or id(node) in docstrings:
            continue
        if isinstance(node.value, str):
            yield node.lineno, node.value


def test_the_texts_keep_to_the_glossary() -> None:
    found = []
    for line, text in _literals():
        cleaned = text
        for allowed in ALLOWED:
            cleaned = cleaned.replace(allowed, "")
        for pattern, why in FORBIDDEN.items():
            if re.search(pattern, cleaned):
                found.append(f"texts.py:{line}: {why}: {text[:80]!r}")
    assert found == []
