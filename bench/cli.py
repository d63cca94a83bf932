"""CLI start-up benchmark: `python -m bench.cli --runs 5 --before <commit>`.

Runs `python -m bot status` (the operator's "is the bot alive?" check) several times against a
temporary migrated SQLite database and measures each child process: CPU time (user + sys, from
`os.wait4`) and peak resident memory. With `--before COMMIT` (or `--before-path CHECKOUT`) the
same is measured, in the same run and alternating, on an older checkout — e.g. the commit before
the CLI stopped importing aiogram — made as a temporary `git worktree`. The floor is a bare
`python -c pass` measured alongside, so the figures read as ratios on any machine.

The last line is `cli_status: runs=N cpu_ms=… rss_mb=… before_cpu_ms=… before_rss_mb=…
floor_cpu_ms=… floor_rss_mb=… cpu_ratio=… rss_ratio=…` (medians; ratios are after / before).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
_SETTINGS = (
    "BOT_TOKEN", "ADMIN_IDS", "DATABASE_URL", "TIMEZONE", "TELEGRAM_API_BASE", "LOG_LEVEL",
    "BACKUP_DIR",
)  # fmt: skip


@dataclass(frozen=True)
class Sample:
    cpu_s: float
    rss_mb: float


def measure(
    argv: Sequence[str], *, cwd: Path, env: dict[str, str], ok: tuple[int, ...] = (0,)
) -> Sample:
    """Run one child to completion; its own CPU time and peak RSS (Linux: ru_maxrss in KiB)."""
    with tempfile.TemporaryFile() as out:
        child = subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=out)
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode not in ok:
            out.seek(0)
            sys.exit(f"{' '.join(argv)} failed ({child.returncode}):\n{out.read().decode()}")
    return Sample(usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


class Checkout:
    """`python -m bot …` of one source tree, with a database of its own."""

    def __init__(self, root: Path, folder: Path) -> None:
        self.root = root
        self.folder = folder  # cwd: no developer's .env is read
        folder.mkdir(parents=True, exist_ok=True)
        self.env = {k: v for k, v in os.environ.items() if k not in _SETTINGS}
        self.env.update(
            PYTHONPATH=str(root), DATABASE_URL=f"sqlite+aiosqlite:///{folder}/bench.db"
        )

    def run(self, *args: str) -> Sample:
        # `status` exits 1 on a database no bot has run on (the bench's); its work is the same.
        ok = (0, 1) if args[:1] == ("status",) else (0,)
        return measure([sys.executable, "-m", "bot", *args], cwd=self.folder, env=self.env, ok=ok)


@contextmanager
def worktree(commit: str) -> Iterator[Path]:
    """The commit checked out in a temporary git worktree, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as tmp:
        path = Path(tmp) / "checkout"
        git = ["git", "-C", str(REPO)]
        subprocess.run([*git, "worktree", "add", "--detach", "-q", str(path), commit], check=True)
        try:
            yield path
        finally:
            subprocess.run([*git, "worktree", "remove", "--force", str(path)], check=True)


def median(samples: list[Sample]) -> Sample:
    return Sample(
        statistics.median(s.cpu_s for s in samples), statistics.median(s.rss_mb for s in samples)
    )


def bench(runs: int, before: Path | None, tmp: Path) -> dict[str, float]:
    after = Checkout(REPO, tmp / "after")
    old = Checkout(before, tmp / "before") if before else None
    for checkout in (after, old):
        if checkout:
            checkout.run("migrate")
            checkout.run("status")  # warm: bytecode compiled, files in the page cache
    floor_env = {k: v for k, v in os.environ.items() if k not in _SETTINGS}
    samples: dict[str, list[Sample]] = {"after": [], "before": [], "floor": []}
    for _ in range(runs):  # alternating, so drift on a shared machine hits both alike
        samples["floor"].append(measure([sys.executable, "-c", "pass"], cwd=tmp, env=floor_env))
        samples["after"].append(after.run("status"))
        if old:
            samples["before"].append(old.run("status"))
    result: dict[str, float] = {"runs": runs}
    for name, prefix in (("after", ""), ("before", "before_"), ("floor", "floor_")):
        if samples[name]:
            m = median(samples[name])
            result[f"{prefix}cpu_ms"] = round(m.cpu_s * 1000)
            result[f"{prefix}rss_mb"] = round(m.rss_mb, 1)
    if old:
        result["cpu_ratio"] = round(result["cpu_ms"] / result["before_cpu_ms"], 2)
        result["rss_ratio"] = round(result["rss_mb"] / result["before_rss_mb"], 2)
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--before", help="a commit to compare with (temporary git worktree)")
    parser.add_argument("--before-path", type=Path, help="a checkout to compare with")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-cli-db-") as tmp:
        if args.before:
            with worktree(args.before) as path:
                result = bench(args.runs, path, Path(tmp))
        else:
            result = bench(args.runs, args.before_path, Path(tmp))
    for key in ("cpu_ms", "rss_mb"):
        line = f"  python -m bot status: {key} {result[key]}"
        if f"before_{key}" in result:
            line += f" (before: {result[f'before_{key}']})"
        print(line + f", bare python {result[f'floor_{key}']}")
    print("cli_status: " + " ".join(f"{k}={v:g}" for k, v in result.items()))


if __name__ == "__main__":
    main()
