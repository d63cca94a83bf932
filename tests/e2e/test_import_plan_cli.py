"""`python -m bot import-plan` in its own process: the report in Russian, --dry-run, --json."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from tests.support import PLAN_2021, REPO
from tests.support.plan_fixtures import plan_fixture
from tests.support.word import word_numbered_plan

PLAN = PLAN_2021


async def test_import_plan_command_reports_in_russian_and_prints_json(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "BOT_TOKEN"}}
    env.update(DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/cli.db", PYTHONPATH=str(REPO))

    async def run(*args: str) -> tuple[int, str, str]:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "import-plan", *args, cwd=tmp_path, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(process.communicate(), 60)
        return process.returncode or 0, out.decode(), err.decode()

    code, out, _ = await run(str(PLAN), "--dry-run")
    assert code == 0
    assert "Новых: 13, обновлено: 0, без изменений: 0, не распознано: 0." in out
    assert "ничего не изменено" in out
    code, out, err = await run(str(PLAN), "--json")
    assert code == 0
    data = json.loads(out)
    assert len(data["items"]) == 13 and data["unresolved"] == []
    assert "Новых: 13" in err
    code, out, _ = await run(str(PLAN))
    assert "без изменений: 13" in out
    code, _, err = await run(str(tmp_path / "нет-такого.txt"))
    assert code == 1 and "Файл не найден" in err


async def test_a_huge_file_is_refused_at_once_and_nothing_is_written(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "BOT_TOKEN"}}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path}/cli.db", PYTHONPATH=str(REPO))
    huge = tmp_path / "план.txt"  # the bot's 2 MB limit holds for the command too
    huge.write_bytes(PLAN.read_bytes() * (3 * 1024 * 1024 // PLAN.stat().st_size + 1))
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "import-plan", str(huge), cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 1
    assert err.decode().strip().startswith("Файл слишком большой")
    assert "не больше 2048 КБ" in err.decode()
    assert out == b""
    assert not (tmp_path / "cli.db").exists()


async def test_a_word_numbered_docx_imports_its_rows(tmp_path: Path) -> None:
    """Numbers from Word's automatic list numbering count as the rows' numbers."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "BOT_TOKEN"}}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path}/cli.db", PYTHONPATH=str(REPO))
    plan = tmp_path / "План 2024-2025.docx"
    plan.write_bytes(word_numbered_plan())
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "import-plan", str(plan), "--dry-run", "--json",
        cwd=tmp_path, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    assert "Новых: 4, обновлено: 0, без изменений: 0, не распознано: 0." in err.decode()
    items = json.loads(out)["items"]
    assert [(i["number"], i["title"], i["timing"]) for i in items] == [
        (1, "Семинар для заместителей директоров", "Сентябрь 2024"),
        (2, "Конкурс «Учитель года»", "Январь-февраль 2025"),
        (3, "Совещание руководителей", "Январь-февраль 2025"),
        (4, "Отчёт о работе за год", "Май 2025"),
    ]
    assert items[1]["when"] == {"kind": "range", "start": "2025-01-01", "end": "2025-02-28"}
    # «Ответственный» is its own field, not the audience.
    assert (items[1]["responsible"], items[1]["audience"]) == ("Педагоги", "")


async def test_a_plan_with_no_year_takes_it_from_the_command_line(tmp_path: Path) -> None:
    """No year in the title or the rows: the command says how to give it, and stores nothing;
    with --school-year the months fall in that year (the opening August in its first)."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "BOT_TOKEN"}}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path}/cli.db", PYTHONPATH=str(REPO))
    plan = tmp_path / "План ШМО.docx"
    plan.write_bytes(plan_fixture("no-year").docx())

    async def run(*args: str) -> tuple[int, str, str]:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "import-plan", str(plan), "--dry-run", *args,
            cwd=tmp_path, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(process.communicate(), 60)
        return process.returncode or 0, out.decode(), err.decode()

    code, out, err = await run()
    assert code == 1 and out == ""
    assert "--school-year 2026/2027" in err and "--year 2026" in err
    code, out, err = await run("--school-year", "2026/27", "--json")
    assert code == 0, err
    items = json.loads(out)["items"]
    assert (items[0]["timing"], items[0]["when"]["start"]) == ("Август", "2026-08-01")
    assert (items[9]["timing"], items[9]["when"]["start"]) == ("май", "2027-05-01")
    assert items[0]["responsible"] == "Руководитель ШМО"
    code, _, err = await run("--year", "2026/2027")
    assert code == 2 and "«2026/2027» — не год" in err
    code, out, err = await run("--year", "2026", "--json")
    assert code == 0, err
    assert json.loads(out)["items"][9]["when"]["start"] == "2026-05-01"
