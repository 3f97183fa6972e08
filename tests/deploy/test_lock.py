"""The Python lock files pin exactly what pyproject.toml asks for, every package hash-checked.

`make lock` writes them (uv pip compile); `make test` and the image install only from them, so a
fresh clone installs what CI tested. These tests catch a dependency added to pyproject.toml
without re-locking, and a hand-edited lock that lost its hashes.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*")


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_names(requirements: list[str]) -> set[str]:
    names = set()
    for requirement in requirements:
        match = _NAME.match(requirement)
        assert match, requirement
        names.add(_canonical(match.group()))
    return names


def _pins(lock: Path) -> dict[str, list[str]]:
    """Each pinned package of a lock file, with the hashes that follow its line."""
    pins: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in lock.read_text().splitlines():
        if match := re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==\S+", line):
            current = pins.setdefault(_canonical(match.group(1)), [])
        elif current is not None and (hashed := re.search(r"--hash=sha256:([0-9a-f]{64})", line)):
            current.append(hashed.group(1))
        elif not line.startswith(" "):
            current = None
    return pins


PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
RUNTIME = _requirement_names(PROJECT["dependencies"] + PROJECT["optional-dependencies"]["otel"])
DEV = RUNTIME | _requirement_names(PROJECT["optional-dependencies"]["dev"])


@pytest.mark.parametrize(
    ("lock", "wanted"), [("requirements.lock", RUNTIME), ("requirements-dev.lock", DEV)]
)
def test_lock_pins_every_dependency_with_hashes(lock: str, wanted: set[str]) -> None:
    pins = _pins(ROOT / lock)
    missing = sorted(wanted - pins.keys())
    assert not missing, f"{lock} lacks {missing}: run `make lock` and commit it"
    unhashed = sorted(name for name, hashes in pins.items() if not hashes)
    assert not unhashed, f"{lock} pins {unhashed} without a hash"


def test_runtime_lock_has_no_dev_tools() -> None:
    dev_only = _requirement_names(PROJECT["optional-dependencies"]["dev"]) - RUNTIME
    assert dev_only & _pins(ROOT / "requirements.lock").keys() == set()


def test_installs_go_through_the_locks() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "--require-hashes -r requirements-dev.lock" in makefile
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "--require-hashes -r requirements.lock" in dockerfile
