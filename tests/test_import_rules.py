"""The package's import rules hold: import-linter's contracts (pyproject.toml), and configuration
as a leaf. A change that makes a lower layer import a higher one, or adds a cycle between
layers, fails here and in `make lint`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_linter_contracts_are_kept() -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    run = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout


def test_reading_the_configuration_loads_no_other_gateway_module() -> None:
    probe = (
        "import sys, gateway.config; "
        "print(' '.join(sorted(m for m in sys.modules if m.startswith('gateway'))))"
    )
    run = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert run.stdout.split() == [
        "gateway",
        "gateway.config",
        "gateway.config.readers",
        "gateway.config.settings",
    ]
