"""gateway/http/server_protocol.py without a server: the connection settings, the cap's derivation
from the descriptor limit, and the connection table's eviction order (tests/e2e/
test_hostile_connections.py has the protocol itself, over real processes)."""

from __future__ import annotations

import resource

import pytest

from gateway.config import ConnectionLimits, Settings, SettingsError
from gateway.http.server_protocol import (
    DEFAULT_MAX_CONNECTIONS,
    DESCRIPTORS_BESIDES_CLIENTS,
    ConnectionTable,
    connection_cap,
    raise_descriptor_limit,
)


class FakeConnection:
    def __init__(self, name: str, evictable: bool = True) -> None:
        self.name = name
        self.evictable = evictable
        self.evicted = False

    def evict(self) -> None:
        self.evicted = True


def test_defaults_are_the_readmes() -> None:
    limits = Settings.from_env({}).connections
    assert (limits.max_url_bytes, limits.max_header_bytes) == (16_384, 16_384)
    assert (limits.max_head_bytes, limits.max_headers) == (65_536, 100)
    assert (limits.header_timeout, limits.body_timeout, limits.keepalive_timeout) == (10, 30, 5)
    assert limits.max_connections is None  # derived at start
    assert DEFAULT_MAX_CONNECTIONS == 1024


def test_each_limit_is_read_from_its_variable() -> None:
    env = {
        "GATEWAY_MAX_URL_BYTES": "2048",
        "GATEWAY_MAX_HEADER_BYTES": "4096",
        "GATEWAY_MAX_HEAD_BYTES": "8192",
        "GATEWAY_MAX_HEADERS": "20",
        "GATEWAY_HEADER_TIMEOUT": "2.5",
        "GATEWAY_BODY_TIMEOUT": "7",
        "GATEWAY_KEEPALIVE_TIMEOUT": "75",
        "GATEWAY_MAX_CONNECTIONS": "50",
    }
    assert Settings.from_env(env).connections == ConnectionLimits(
        max_url_bytes=2048,
        max_header_bytes=4096,
        max_head_bytes=8192,
        max_headers=20,
        header_timeout=2.5,
        body_timeout=7,
        keepalive_timeout=75,
        max_connections=50,
    )
    assert set(env) == set(ConnectionLimits.VARIABLES.values())


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("GATEWAY_MAX_URL_BYTES", "16KiB"),
        ("GATEWAY_MAX_URL_BYTES", "100"),
        ("GATEWAY_MAX_HEADER_BYTES", "-1"),
        ("GATEWAY_MAX_HEAD_BYTES", "512"),
        ("GATEWAY_MAX_HEADERS", "0"),
        ("GATEWAY_HEADER_TIMEOUT", "ten"),
        ("GATEWAY_HEADER_TIMEOUT", "0"),
        ("GATEWAY_BODY_TIMEOUT", "-3"),
        ("GATEWAY_KEEPALIVE_TIMEOUT", "3601"),
        ("GATEWAY_MAX_CONNECTIONS", "8"),
        ("GATEWAY_MAX_CONNECTIONS", "many"),
    ],
)
def test_a_wrong_value_is_refused_naming_its_variable(variable: str, value: str) -> None:
    with pytest.raises(SettingsError, match=variable) as info:
        Settings.from_env({variable: value})
    assert repr(value) in str(info.value)


@pytest.mark.parametrize("variable", ["GATEWAY_MAX_URL_BYTES", "GATEWAY_MAX_HEADER_BYTES"])
def test_a_line_bound_above_the_head_bound_is_refused(variable: str) -> None:
    with pytest.raises(SettingsError, match=rf"{variable} .* GATEWAY_MAX_HEAD_BYTES"):
        Settings.from_env({variable: "20000", "GATEWAY_MAX_HEAD_BYTES": "16384"})


def test_the_cap_defaults_within_the_descriptor_limit() -> None:
    assert connection_cap(None, 1_048_576) == DEFAULT_MAX_CONNECTIONS
    # A small limit (docker's usual soft 1,024): what is left after the other descriptors.
    assert connection_cap(None, 1024) == 1024 - DESCRIPTORS_BESIDES_CLIENTS
    assert connection_cap(50, 1024) == 50


def test_a_configured_cap_the_descriptors_cannot_hold_stops_the_start() -> None:
    with pytest.raises(ValueError, match=r"GATEWAY_MAX_CONNECTIONS=5000 .* 1024 file descriptors"):
        connection_cap(5000, 1024)


def test_the_soft_descriptor_limit_is_raised_to_the_hard_one() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(256, hard), hard))
        raised = raise_descriptor_limit()
        assert resource.getrlimit(resource.RLIMIT_NOFILE) == (raised, hard)
        assert raised == (hard if hard != resource.RLIM_INFINITY else raised) and raised >= soft
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_a_full_table_closes_the_connection_idle_the_longest() -> None:
    table = ConnectionTable(capacity=3)
    first, second, third = (FakeConnection(name) for name in ("first", "second", "third"))
    for connection in (first, second, third):
        assert table.admit(connection)
    table.touch(first)  # first just sent something: second is now the longest idle
    newcomer = FakeConnection("newcomer")
    assert table.admit(newcomer)
    assert second.evicted and not first.evicted and not third.evicted
    assert len(table) == 3


def test_connections_busy_with_a_request_are_not_evicted() -> None:
    table = ConnectionTable(capacity=2)
    busy, idle = FakeConnection("busy", evictable=False), FakeConnection("idle")
    table.admit(busy)
    table.admit(idle)
    assert table.admit(FakeConnection("new"))
    assert idle.evicted and not busy.evicted


def test_a_table_full_of_busy_connections_refuses_the_new_one() -> None:
    table = ConnectionTable(capacity=2)
    busy = [FakeConnection(str(n), evictable=False) for n in range(2)]
    for connection in busy:
        table.admit(connection)
    assert not table.admit(FakeConnection("new"))
    assert len(table) == 2 and not any(c.evicted for c in busy)
