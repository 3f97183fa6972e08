"""A serving worker freezes its startup heap and spaces the cyclic collections out (gateway.heap).

Run in a child process: freezing is for the whole process, and the suite's own is not served.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from gateway.heap import GEN0_THRESHOLD

PROBE = """
import gc, json
from gateway.app import app_from_environment
before = {"frozen": gc.get_freeze_count(), "threshold": gc.get_threshold()}
app_from_environment()
after = {"frozen": gc.get_freeze_count(), "threshold": gc.get_threshold()}
print(json.dumps({"before": before, "after": after}))
"""


def test_a_worker_built_from_the_environment_freezes_its_startup_heap() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KOMBO_", "GATEWAY_"))}
    env["GATEWAY_AUTH"] = "none"  # the embedded sandbox, as `make run`
    done = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.splitlines()[-1])
    assert seen["before"]["frozen"] == 0
    assert seen["before"]["threshold"][0] < GEN0_THRESHOLD  # CPython's (700), until then
    # The modules, the schema and the app: tens of thousands of objects never traversed again.
    assert seen["after"]["frozen"] > 50_000
    assert seen["after"]["threshold"] == [GEN0_THRESHOLD, *seen["before"]["threshold"][1:]]
