"""``bench.profile``'s reading of py-spy's collapsed stacks, on a small synthetic raw file.

No py-spy here: the aggregation is a pure function of the stacks (and of the source lines of the
leaf frames, given by a fake), and so is the rendering.
"""

from __future__ import annotations

import pytest

from bench import profile as prof
from bench.servers import ROOT

SITE = "/venv/lib/python3.11/site-packages"
STDLIB = "/py/lib/python3.11"
GW = f"{ROOT}/gateway"

ENTRY = ";".join(
    [
        f"_run_module_as_main ({STDLIB}/runpy.py:198)",
        f"main ({GW}/cli.py:172)",
        f"Server.run ({SITE}/uvicorn/server.py:86)",
        f"Runner.run ({STDLIB}/asyncio/runners.py:118)",
    ]
)
HTTP = ";".join(
    [
        f"RequestResponseCycle.run_asgi ({SITE}/uvicorn/protocols/http/httptools_impl.py:409)",
        f"Router.__call__ ({SITE}/starlette/routing.py:715)",
        f"GraphQLEndpoint._answer ({GW}/http/endpoint.py:300)",
        f"execute ({SITE}/graphql/execution/execute.py:1000)",
    ]
)
FETCH = f"KomboClient._fetch_page ({GW}/kombo/client.py:247)"

RAW = "\n".join(
    [
        # the fast path under the request: 5
        f"thread (101): MainThread;{ENTRY};{HTTP};_Interview_raw_84 (<fast path for X>:12) 5",
        # the upstream body decoded (a leaf line calling orjson.loads): 3
        f"thread (101): MainThread;{ENTRY};{FETCH};_decode ({GW}/kombo/client.py:400) 3",
        # parsing records: 2
        f"thread (101): MainThread;{ENTRY};{FETCH};"
        f"parse_page ({GW}/kombo/parsing.py:330);check ({GW}/kombo/parsing.py:100) 2",
        # the response encoded (a leaf line calling orjson.dumps): 4
        f"thread (101): MainThread;{ENTRY};{HTTP};encode_json ({GW}/http/responses.py:153) 4",
        # the event loop itself (uvloop's C code under Runner.run): 1
        f"thread (101): MainThread;{ENTRY} 1",
        # a torn stack (--nonblocking) without the entry frames or a thread: 1
        f"SocketStream.send ({SITE}/anyio/_backends/_asyncio.py:1200) 1",
        # another thread, a stdlib leaf: 4
        f"thread (202): worker;_worker ({STDLIB}/concurrent/futures/thread.py:58) 4",
        "",
    ]
)

SOURCE = {
    (f"{GW}/kombo/client.py", 400): "        body = orjson.loads(content)\n",
    (f"{GW}/http/responses.py", 153): "        return orjson.dumps(body)\n",
}


def source(file: str, line: int) -> str:
    return SOURCE.get((file, line), "        x = y\n")


def test_parse_raw_reads_threads_frames_and_counts() -> None:
    samples = prof.parse_raw(RAW)
    assert [s.count for s in samples] == [5, 3, 2, 4, 1, 1, 4]
    assert samples[0].thread == "MainThread"
    assert samples[5].thread == ""
    assert samples[6].thread == "worker"
    leaf = samples[0].frames[-1]
    assert leaf == prof.Frame("_Interview_raw_84", "<fast path for X>", 12)
    assert samples[0].frames[0].function == "_run_module_as_main"
    assert len(samples[4].frames) == 4


def test_parse_raw_rejects_a_line_without_a_count() -> None:
    with pytest.raises(ValueError, match="collapsed stack"):
        prof.parse_raw("a (x.py:1);b (y.py:2)")


def test_layer_of_maps_module_paths() -> None:
    def layer(path: str) -> str:
        return prof.layer_of(prof.Frame("f", path, 1))

    assert layer(f"{GW}/execution/fastpath.py") == prof.EXECUTION
    assert layer("<fast path for InterviewConnection>") == prof.EXECUTION
    assert layer(f"{GW}/schema/ids.py") == prof.SCHEMA
    assert layer(f"{GW}/upstream/access.py") == prof.UPSTREAM
    assert layer(f"{GW}/observability/telemetry.py") == prof.OBSERVABILITY
    assert layer(f"{GW}/app.py") == prof.GATEWAY_OTHER
    assert layer(f"{SITE}/httptools/parser.py") == prof.UVICORN
    assert layer(f"{SITE}/strawberry/schema/schema.py") == prof.STRAWBERRY
    assert layer(f"{SITE}/graphql/execution/execute.py") == prof.GRAPHQL
    assert layer(f"{SITE}/httpcore/_async/connection_pool.py") == prof.HTTPX
    assert layer(f"{STDLIB}/asyncio/base_events.py") == prof.EVENT_LOOP
    assert layer(f"{STDLIB}/hmac.py") == prof.OTHER
    assert prof.short_path(f"{SITE}/starlette/routing.py") == "starlette/routing.py"
    assert prof.short_path(f"{GW}/kombo/client.py") == "gateway/kombo/client.py"


def test_aggregate_self_by_function() -> None:
    profile = prof.aggregate(prof.parse_raw(RAW), source)
    assert profile.total == 20
    assert profile.by_thread == {"MainThread": 15, "": 1, "worker": 4}
    top = profile.self_by_function.most_common()
    assert top[0] == ("<fast path for X>:_Interview_raw_84", 5)
    assert profile.self_by_function["gateway/kombo/client.py:_decode → orjson.loads"] == 3
    assert profile.self_by_function["gateway/http/responses.py:encode_json → orjson.dumps"] == 4
    assert profile.self_by_function["gateway/kombo/parsing.py:check"] == 2
    assert profile.self_by_function["asyncio/runners.py:Runner.run"] == 1
    assert profile.function_layer["gateway/kombo/client.py:_decode → orjson.loads"] == (
        "gateway/kombo: orjson.loads of the upstream body"
    )
    assert profile.share(5) == 25.0


def test_aggregate_by_layer() -> None:
    profile = prof.aggregate(prof.parse_raw(RAW), source)
    self_ = profile.self_by_layer
    assert self_[prof.EXECUTION] == 5
    assert self_[prof.KOMBO] == 5  # loads 3 + parsing 2
    assert (self_[prof.KOMBO_LOADS], self_[prof.KOMBO_PARSE], self_[prof.KOMBO_REST]) == (3, 2, 0)
    assert self_[prof.DUMPS] == 4
    assert self_[prof.HTTP] == 0  # encode_json's time is orjson's
    assert self_[prof.EVENT_LOOP] == 2  # Runner.run alone, anyio's send
    assert self_[prof.OTHER] == 4
    breakdown = {prof.KOMBO_LOADS, prof.KOMBO_PARSE, prof.KOMBO_REST}
    assert sum(n for layer, n in self_.items() if layer not in breakdown) == profile.total

    inclusive = profile.inclusive
    # the entry frames (runpy, gateway/cli.py, uvicorn's Server.run) are in no layer
    assert inclusive[prof.GATEWAY_OTHER] == 0
    assert inclusive[prof.UVICORN] == 9  # run_asgi: the fast path's 5, encode_json's 4
    assert inclusive[prof.STARLETTE] == inclusive[prof.HTTP] == inclusive[prof.GRAPHQL] == 9
    assert inclusive[prof.KOMBO] == 5
    assert (inclusive[prof.KOMBO_LOADS], inclusive[prof.KOMBO_PARSE]) == (3, 2)
    assert inclusive[prof.EVENT_LOOP] == 2
    assert inclusive[prof.DUMPS] == 4
    assert inclusive[prof.OTHER] == 4
    assert inclusive[prof.IDLE] == 0


def test_aggregate_idle_leaves_when_sampled() -> None:
    samples = prof.parse_raw(RAW)
    busy = prof.aggregate(samples, source)
    assert busy.self_by_layer[prof.IDLE] == 0
    with_idle = prof.aggregate(samples, source, idle=True)
    # Runner.run alone (the event loop waiting) and the pool's worker are waits
    assert with_idle.self_by_layer[prof.IDLE] == with_idle.inclusive[prof.IDLE] == 5
    assert with_idle.self_by_layer[prof.EVENT_LOOP] == 1
    assert with_idle.self_by_layer[prof.OTHER] == 0


def test_render_both_tables() -> None:
    profile = prof.aggregate(prof.parse_raw(RAW), source)
    info = prof.RunInfo("python -m bench.profile --scenario a", "a", seconds=0.1, rate=250,
                        idle=False, cpu_seconds=0.05)  # fmt: skip
    text = prof.render(profile, info, top=3)
    assert "Samples: 20 in 0.1 s of wall time at 250 Hz (25 possible per thread)." in text
    assert "- thread MainThread: 15 samples = 60 % of the wall clock busy" in text
    assert "## Top 3 functions by self share" in text
    assert "| 1 |   25.0 | <fast path for X>:_Interview_raw_84" in text
    table = text.split("## By layer")[1]
    rows = {line.split("|")[1].strip(): line.split("|")[2:4] for line in table.splitlines()
            if line.startswith("| ") and "inclusive %" not in line}  # fmt: skip
    assert [cell.strip() for cell in rows["orjson.dumps (any caller)"]] == ["20.0", "20.0"]
    assert rows["idle"][0].strip() == "not sampled"
    first = text.split("## Top 3")[1].split("## By layer")[0]
    assert len([line for line in first.splitlines() if line.startswith("| ")]) == 4  # header, 3
