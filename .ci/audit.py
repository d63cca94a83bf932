"""Known vulnerabilities in what the project installs: `make audit`, and CI after the tests.

The set audited is exactly what `make .venv/.installed-dev` put into .venv: the pins of
requirements-dev.lock (runtime and dev dependencies; the project itself skipped). pip-audit asks
its vulnerability service about every name and version.
First a quick probe asks about pip itself, a package every index knows: when the service cannot
be reached, or knows nothing even about pip (an index mirror without the vulnerability data),
the audit is skipped with a note and exit 0 — an offline run proves nothing either way, and CI
must not fail for it. Found vulnerabilities exit 1.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from importlib.metadata import version
from pathlib import Path
from typing import Any

PIP_AUDIT = Path(sys.executable).with_name("pip-audit")


def audit(*args: str, timeout: int) -> tuple[dict[str, Any] | None, str]:
    """pip-audit's JSON report (None if it produced none) and its stderr."""
    try:
        run = subprocess.run(
            [str(PIP_AUDIT), "--progress-spinner", "off", "--format", "json",
             "--timeout", "10", *args],
            capture_output=True, text=True, timeout=timeout, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return None, f"no answer within {timeout} s"
    try:
        report = json.loads(run.stdout)
    except ValueError:
        return None, run.stderr
    return (report if isinstance(report, dict) else None), run.stderr


def unreachable() -> str | None:
    """Why vulnerability data can't be had from here, or None when it can."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt") as probe:
        probe.write(f"pip=={version('pip')}\n")
        probe.flush()
        report, stderr = audit("--no-deps", "--disable-pip", "--requirement", probe.name,
                               timeout=60)  # fmt: skip
    if report is None:
        lines = stderr.strip().splitlines()
        return lines[-1] if lines else "pip-audit gave no report"
    skipped = [d["skip_reason"] for d in report.get("dependencies", []) if "skip_reason" in d]
    return skipped[0] if skipped else None


def main() -> int:
    reason = unreachable()
    if reason is not None:
        print(f"pip-audit: skipped: no network — vulnerability data unreachable ({reason})")
        return 0
    report, stderr = audit("--skip-editable", timeout=900)
    if report is None:
        print(stderr.strip() or "pip-audit gave no report", file=sys.stderr)
        print("pip-audit: failed")
        return 1
    dependencies = report.get("dependencies", [])
    found = 0
    for dependency in dependencies:
        for vuln in dependency.get("vulns", []):
            found += 1
            fixed = ", ".join(vuln.get("fix_versions", [])) or "no fixed version yet"
            print(f"{dependency['name']} {dependency['version']}: {vuln['id']} (fixed in {fixed})")
    skipped = [d for d in dependencies if "skip_reason" in d]
    for dependency in skipped:
        print(f"not audited: {dependency['skip_reason']}")
    print(
        f"pip-audit: packages={len(dependencies)} vulnerabilities={found} "
        f"not_audited={len(skipped)}"
    )
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
