"""``python -m bench.live``: its pure pieces (percentiles, reading /metrics, the table), and a
small run end to end: real upstream, real gateway, 20 WebSocket subscribers, one change."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.live import (
    ChangeResult,
    LiveReport,
    gateway_env,
    metric_samples,
    metric_value,
    negotiated_compression,
    percentile,
    render,
    rss_kib,
    run_and_wait_seconds,
)
from bench.servers import ROOT

METRICS = """# HELP kombo_gateway_live_subscribers Live subscriptions open
# TYPE kombo_gateway_live_subscribers gauge
kombo_gateway_live_subscribers 1000.0
kombo_gateway_live_refreshes_total{outcome="ok",trigger="webhook"} 3.0
kombo_gateway_live_refreshes_total{outcome="error",trigger="webhook"} 1.0
kombo_gateway_live_refreshes_total{outcome="ok",trigger="poll"} 7.0
kombo_gateway_live_refreshes_created{outcome="ok",trigger="poll"} 1.7e+09
"""


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]  # 1..100
    assert percentile(values, 0.5) == 50
    assert percentile(values, 0.99) == 99
    assert percentile(values, 1.0) == 100
    assert percentile(values, 0.0) == 1
    assert percentile([3.0, 1.0, 2.0], 0.5) == 2
    assert percentile([5.0], 0.99) == 5
    assert math.isnan(percentile([], 0.5))
    with pytest.raises(ValueError):
        percentile([1.0], 1.5)


def test_metric_samples_are_each_line_of_the_name_with_its_labels() -> None:
    assert metric_samples(METRICS, "kombo_gateway_live_refreshes_total") == [
        ({"outcome": "ok", "trigger": "webhook"}, 3.0),
        ({"outcome": "error", "trigger": "webhook"}, 1.0),
        ({"outcome": "ok", "trigger": "poll"}, 7.0),
    ]
    assert metric_samples(METRICS, "kombo_gateway_live_subscribers") == [({}, 1000.0)]
    assert metric_samples(METRICS, "kombo_gateway_live_refreshes") == []


def test_metric_value_sums_the_samples_with_the_labels() -> None:
    assert metric_value(METRICS, "kombo_gateway_live_subscribers") == 1000
    assert metric_value(METRICS, "kombo_gateway_live_refreshes_total") == 11
    assert metric_value(METRICS, "kombo_gateway_live_refreshes_total", trigger="webhook") == 4
    assert (
        metric_value(METRICS, "kombo_gateway_live_refreshes_total", trigger="poll", outcome="ok")
        == 7
    )
    assert metric_value(METRICS, "kombo_gateway_live_drops_total") == 0
    assert metric_value(METRICS, "kombo_gateway_live_refreshes") == 0  # names match exactly


def test_compression_names_what_the_handshakes_agreed() -> None:
    deflate = "permessage-deflate; server_max_window_bits=12"
    assert negotiated_compression({deflate}) == "negotiated"
    assert negotiated_compression({""}) == "off"
    assert negotiated_compression({deflate, ""}) == "mixed"


def test_the_gateway_has_room_for_the_subscribers() -> None:
    env = gateway_env("http://127.0.0.1:1", 2, "key", "secret", 5000)
    assert int(env["GATEWAY_LIVE_MAX_SUBSCRIPTIONS_PER_INTEGRATION"]) >= 5000
    assert int(env["GATEWAY_LIVE_MAX_SUBSCRIPTIONS"]) >= 5000
    assert env["GATEWAY_WORKERS"] == "1" and env["KOMBO_WEBHOOK_SECRET"] == "secret"
    assert env["GATEWAY_LIVE_MIN_REFRESH_SECONDS"] == "0"


def test_rss_and_cpu_of_this_process() -> None:
    assert rss_kib(os.getpid()) > 1024
    run, wait = run_and_wait_seconds(os.getpid())
    assert run > 0 and wait >= 0


def _change(index: int, delivery: list[float]) -> ChangeResult:
    return ChangeResult(
        index=index, record_id="r", post_ms=10.0, delivery_ms=delivery,
        from_answer_ms=[d - 10 for d in delivery], received=len(delivery), duplicates=0,
        other_messages=0, upstream_calls=1, upstream_paths=["/v1/ats/interviews"],
        refreshes=1, deliveries=len(delivery), cpu_ms=5.0, runqueue_ms=1.0, wall_ms=50.0,
    )  # fmt: skip


def test_render_has_a_row_per_change_and_one_over_all() -> None:
    report = LiveReport(
        settings={"subscribers": 4}, subscribers=4, registered=4, subscribe_seconds=0.1,
        rss_before_kib=1024, rss_after_kib=1024 + 400, compression="negotiated",
        changes=[_change(1, [1.0, 2.0, 3.0, 4.0]), _change(2, [5.0, 6.0, 7.0, 8.0])],
    )  # fmt: skip
    text = render(report)
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    assert "| 100.0 " in rows[1]  # (400 KiB) / 4 subscribers
    assert rows[3].startswith("| 1 ") and "4/4" in rows[3]
    overall = rows[5]
    assert overall.startswith("| all 2 ") and "8/8" in overall
    cells = [cell.strip() for cell in overall.strip("|").split("|")]
    assert cells[4:7] == ["4.0", "8.0", "8.0"]  # p50, p99, max of the pooled 8


@pytest.mark.serial
def test_a_small_run_end_to_end(tmp_path: Path) -> None:
    output = tmp_path / "live.md"
    completed = subprocess.run(
        [sys.executable, "-m", "bench.live", "--subscribers", "20", "--changes", "1",
         "--output", str(output), "--log-dir", str(tmp_path / "logs"), "--check"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stdout + completed.stderr
    text = output.read_text()
    assert text in completed.stdout
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    setup = [cell.strip() for cell in rows[1].strip("|").split("|")]
    assert setup[:2] == ["20", "20"]
    change = [cell.strip() for cell in rows[3].strip("|").split("|")]
    assert change[:4] == ["1", "20/20", "0", "0"]  # all received, exactly once, nothing else
    assert 0 < float(change[6]) < 5000  # max delivery, ms
    assert change[9] == "1"  # one upstream call: the refresh's page of changed interviews
    assert change[10] == "1" and change[11] == "20"  # one refresh, queued for each subscriber
