"""The architecture is a rule a tool checks: `lint-imports` (in `make lint`) on a copy of bot/."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.support import REPO

LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def contract_name(contract_id: str) -> str:
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    for contract in config["tool"]["importlinter"]["contracts"]:
        if contract["id"] == contract_id:
            return str(contract["name"])
    raise AssertionError(f"no import-linter contract {contract_id!r} in pyproject.toml")


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """`bot/` and the config in a folder of their own; lint-imports reads the package from cwd."""
    shutil.copytree(REPO / "bot", tmp_path / "bot", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def lint_imports(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-logo", "--no-cache"],
        cwd=folder, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_the_unmodified_copy_keeps_every_contract(copy: Path) -> None:
    result = lint_imports(copy)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_aiogram_in_a_service_breaks_the_no_aiogram_contract(copy: Path) -> None:
    (copy / "bot" / "services" / "leak.py").write_text("import aiogram\n", encoding="utf-8")
    result = lint_imports(copy)
    assert result.returncode != 0
    assert f"{contract_name('no-aiogram')} BROKEN" in result.stdout
    assert "bot.services.leak -> aiogram" in result.stdout


def test_storage_importing_a_service_breaks_the_layers(copy: Path) -> None:
    (copy / "bot" / "storage" / "upward.py").write_text(
        "import bot.services.browsing\n", encoding="utf-8"
    )
    result = lint_imports(copy)
    assert result.returncode != 0
    assert "bot.storage.upward -> bot.services.browsing" in result.stdout
    assert f"{contract_name('layers')} BROKEN" in result.stdout


def test_a_handler_reaching_into_storage_breaks_thin_handlers(copy: Path) -> None:
    (copy / "bot" / "handlers" / "shortcut.py").write_text(
        "from bot.storage.items import ItemRepository\n\n__all__ = ['ItemRepository']\n",
        encoding="utf-8",
    )
    result = lint_imports(copy)
    assert result.returncode != 0
    assert f"{contract_name('thin-handlers')} BROKEN" in result.stdout
    assert "bot.handlers.shortcut -> bot.storage.items" in result.stdout
