"""The supervisor's dealer and a worker's dealt connections, over real sockets.

The whole (``serve --workers 2`` spreading kept-alive connections evenly, a killed worker's
share served by its replacement): ``tests/e2e/test_workers.py``.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import ClassVar

import pytest

from gateway.http.workers import ConnectionDealer, DealtConnections


@contextmanager
def listening() -> Iterator[socket.socket]:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    try:
        yield listener
    finally:
        listener.close()


def receive(worker_end: socket.socket) -> socket.socket:
    """The next connection dealt to ``worker_end`` (waits up to 10 s)."""
    worker_end.settimeout(10)
    message, descriptors, _flags, _address = socket.recv_fds(worker_end, 1, 4)
    assert message == b"c"
    assert len(descriptors) == 1
    return socket.socket(fileno=descriptors[0])


def test_connections_are_dealt_to_the_workers_in_turn() -> None:
    with listening() as listener, ExitStack() as stack:
        dealer = ConnectionDealer(listener, 3)
        stack.callback(dealer.close)
        dealer.start()
        stack.callback(dealer.stop)
        port = listener.getsockname()[1]
        clients = []
        for number in range(9):
            client = stack.enter_context(socket.create_connection(("127.0.0.1", port)))
            client.sendall(bytes([number]))
            clients.append(client)
        seen: dict[int, list[int]] = {}
        for index in range(3):
            for _ in range(3):
                with receive(dealer.worker_end(index)) as served:
                    served.settimeout(10)
                    seen.setdefault(index, []).append(served.recv(1)[0])
                    served.sendall(b"ok")
        # Accepted in the order they connected, dealt round-robin: every third to each worker.
        assert seen == {0: [0, 3, 6], 1: [1, 4, 7], 2: [2, 5, 8]}
        assert dealer.dealt == [3, 3, 3]
        for client in clients:
            client.settimeout(10)
            assert client.recv(2) == b"ok"  # the worker's copy is the client's connection


def fill(pair_end: socket.socket) -> None:
    """Queue messages on a dealer's end of a pair until it refuses more."""
    while True:
        try:
            pair_end.send(b"x")
        except BlockingIOError:
            return


def test_a_worker_whose_queue_is_full_is_skipped_and_none_left_says_so() -> None:
    with listening() as listener, ExitStack() as stack:
        listener.listen()
        dealer = ConnectionDealer(listener, 2)
        stack.callback(dealer.close)
        client = stack.enter_context(socket.create_connection(listener.getsockname()))
        connection, _ = listener.accept()
        stack.enter_context(connection)
        fill(dealer._pairs[0][0])
        assert dealer.deal(connection) == 1
        assert dealer.deal(connection) == 1  # worker 0 is still full
        fill(dealer._pairs[1][0])
        assert dealer.deal(connection) is None
        assert dealer.dealt == [0, 2]
        assert client.fileno() >= 0


def test_stopping_refuses_new_connections_and_ends_the_thread() -> None:
    with listening() as listener:
        dealer = ConnectionDealer(listener, 1)
        dealer.start()
        address = listener.getsockname()
        dealer.stop()
        dealer.close()
        assert not dealer._thread.is_alive()
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(address, timeout=10)


def test_a_dealer_needs_a_worker() -> None:
    with listening() as listener, pytest.raises(ValueError):
        ConnectionDealer(listener, 0)


class Echo(asyncio.Protocol):
    made: ClassVar[list[Echo]] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        Echo.made.append(self)

    def data_received(self, data: bytes) -> None:
        self.transport.write(data)  # type: ignore[attr-defined]


@pytest.mark.anyio
async def test_a_worker_serves_what_is_dealt_to_it_until_closed() -> None:
    Echo.made = []
    loop = asyncio.get_running_loop()
    dealer_end, worker_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    with listening() as listener, ExitStack() as stack:
        for end in (dealer_end, worker_end):
            stack.enter_context(end)
        listener.listen()
        listener.setblocking(False)
        served = DealtConnections(worker_end, Echo)
        reader, writer = await asyncio.open_connection(*listener.getsockname())
        connection, _ = await loop.sock_accept(listener)
        socket.send_fds(dealer_end, [b"c"], [connection.fileno()])
        connection.close()  # the worker has its own copy
        writer.write(b"ping")
        assert await asyncio.wait_for(reader.readexactly(4), 10) == b"ping"
        assert len(Echo.made) == 1

        served.close()
        await served.wait_closed()
        late = stack.enter_context(socket.create_connection(listener.getsockname()))
        accepted, _ = await loop.sock_accept(listener)
        with accepted:
            socket.send_fds(dealer_end, [b"c"], [accepted.fileno()])
        # A closed worker takes nothing more: the connection waits in the pair for another.
        worker_end.setblocking(True)
        worker_end.settimeout(10)
        with receive(worker_end):
            pass
        assert len(Echo.made) == 1
        assert late.fileno() >= 0
        writer.close()
        await writer.wait_closed()
        Echo.made[0].transport.close()
