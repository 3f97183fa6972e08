"""``GATEWAY_WORKERS``: a whole number, or ``auto`` (one per usable core, issue 12)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gateway.config import Settings, SettingsError
from gateway.config.settings import usable_cores


def test_unset_is_one_worker_as_the_contract_says() -> None:
    assert Settings.from_env({}).workers == 1


def test_a_number_is_that_many_workers() -> None:
    assert Settings.from_env({"GATEWAY_WORKERS": "3"}).workers == 3


@pytest.mark.parametrize("value", ["auto", "AUTO", " Auto "])
def test_auto_is_one_worker_per_core_this_process_may_use(value: str) -> None:
    env = {"GATEWAY_WORKERS": value, "KOMBO_API_KEY": "key"}
    assert Settings.from_env(env).workers == usable_cores()
    assert 1 <= usable_cores() <= len(os.sched_getaffinity(0))


def test_auto_is_one_worker_on_the_embedded_sandbox() -> None:
    """The sandbox's records and their live changes live in each worker: one worker."""
    assert Settings.from_env({"GATEWAY_WORKERS": "auto"}).workers == 1


@pytest.mark.parametrize("value", ["0", "65", "two", "automatic", "-1", "²"])
def test_anything_else_is_refused_with_both_forms_named(value: str) -> None:
    with pytest.raises(SettingsError, match=r"GATEWAY_WORKERS must be a whole number .*or auto"):
        Settings.from_env({"GATEWAY_WORKERS": value})


@pytest.mark.parametrize(
    ("cpu_max", "expected"),
    [("max 100000", None), ("100000 100000", 1), ("150000 100000", 2), ("50000 100000", 1)],
)
def test_a_cgroup_cpu_quota_bounds_the_cores(
    tmp_path: Path, cpu_max: str, expected: int | None
) -> None:
    """A container's ``--cpus`` or a Kubernetes CPU limit: the quota's cores, rounded up."""
    path = tmp_path / "cpu.max"
    path.write_text(cpu_max + "\n")
    affinity = len(os.sched_getaffinity(0))
    wanted = affinity if expected is None else min(affinity, expected)
    assert usable_cores(str(path)) == wanted


def test_an_unreadable_quota_leaves_the_affinity(tmp_path: Path) -> None:
    garbage = tmp_path / "cpu.max"
    garbage.write_text("not a quota")
    affinity = len(os.sched_getaffinity(0))
    assert usable_cores(str(garbage)) == affinity
    assert usable_cores(str(tmp_path / "missing")) == affinity
