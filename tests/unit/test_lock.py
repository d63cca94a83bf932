"""The lock files pin every dependency pyproject.toml names, at a version its range allows.

`make run` installs requirements.lock and `make test` requirements-dev.lock, never resolving
pyproject.toml's ranges themselves; so a dependency added to pyproject.toml without `make lock`
would be missing on the server. This test is what makes that change fail.
"""

from __future__ import annotations

import re
import tomllib

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.support import REPO

PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")
FIX = "run `make lock` and commit requirements.lock and requirements-dev.lock"


def pins(name: str) -> dict[str, str]:
    """Package → its exact version, from a lock file."""
    found: dict[str, str] = {}
    for line in (REPO / name).read_text(encoding="utf-8").splitlines():
        if match := PIN.match(line):
            found[canonicalize_name(match.group(1))] = match.group(2)
    return found


def declared(*extras: str) -> list[Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = [Requirement(text) for text in project["dependencies"]]
    for extra in extras:
        requirements += [Requirement(text) for text in project["optional-dependencies"][extra]]
    return [r for r in requirements if r.marker is None or r.marker.evaluate()]


def missing(requirements: list[Requirement], locked: dict[str, str]) -> list[str]:
    problems = []
    for requirement in requirements:
        version = locked.get(canonicalize_name(requirement.name))
        if version is None:
            problems.append(f"{requirement.name}: not in the lock")
        elif not requirement.specifier.contains(version, prereleases=True):
            problems.append(f"{requirement.name}=={version}: outside {requirement.specifier}")
    return problems


def test_the_runtime_lock_pins_every_dependency_of_pyproject() -> None:
    assert missing(declared(), pins("requirements.lock")) == [], FIX


def test_the_dev_lock_pins_the_dependencies_and_the_dev_tools() -> None:
    assert missing(declared("dev"), pins("requirements-dev.lock")) == [], FIX


def test_both_locks_agree_on_what_they_share() -> None:
    """A venv made for the tests runs the same versions the server gets."""
    runtime, dev = pins("requirements.lock"), pins("requirements-dev.lock")
    assert set(runtime) <= set(dev), FIX
    assert {name: (version, dev[name]) for name, version in runtime.items()
            if dev[name] != version} == {}, FIX  # fmt: skip


def test_every_pin_has_its_hashes_and_the_header_names_the_command() -> None:
    for name, extra in (("requirements.lock", ""), ("requirements-dev.lock", "--extra=dev")):
        text = (REPO / name).read_text(encoding="utf-8")
        header = text.split("\n\n", 1)[0]
        assert "pip-compile" in header and f"--output-file={name}" in header
        assert "--generate-hashes" in header and extra in header
        entries = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 6)[-1])
        unhashed = [e.split()[0] for e in entries if PIN.match(e) and "--hash=sha256:" not in e]
        assert unhashed == [], name


def test_make_installs_from_the_locks_only() -> None:
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    assert "-r $(LOCK)" in makefile and "-r $(DEV_LOCK)" in makefile
    assert "--no-deps -e ." in makefile
    assert not re.search(r"pip install[^\n]*-e '?\.\[", makefile)  # no resolving of extras
