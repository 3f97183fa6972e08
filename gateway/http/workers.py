"""Several worker processes behind one port, each dealt its share of the connections.

uvicorn's supervisor gives every worker the listening socket, and a worker's event loop accepts
every connection pending when it wakes: ten connections opened at once split 5/5, 6/4 or 8/2
as that race goes. Kept-alive connections (a proxy's pool, a load generator, a browser) stay
where they landed, so a worker holding eight of ten has one core for 80 % of the work while the
other core waits. Scenario (a) with two workers, ten connections (``/tmp`` runs of ``wrk``,
``ss`` sampling the split): 392 req/s at 8/2, 426-480 at 6/4, 482 at 5/5.

:class:`DealingSupervisor` accepts in the supervisor instead, as Node's ``cluster`` module does
by default: one thread waits in ``accept()`` and passes each new connection (its descriptor,
``SCM_RIGHTS`` over a Unix socket pair per worker) to the workers in turn, the next one when a
worker's pair is full. Each worker's :class:`DealtServer` receives them on its end of the pair
(:class:`DealtConnections`) and serves them with the gateway's protocol as if it had accepted
them itself: limits, timeouts and the connection cap are the same. The pairs are the
supervisor's: connections dealt to a worker that dies wait in its pair for its replacement.
A connection costs one ``sendmsg`` and one ``recvmsg`` more; its requests cost nothing more.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import socket
import sys
import threading
import time
from typing import Any

from uvicorn.config import STARTUP_FAILURE, Config
from uvicorn.supervisors.multiprocess import Multiprocess, Process

from gateway.lifecycle import GatewayServer
from gateway.observability.metrics import forget_process

__all__ = ["ConnectionDealer", "DealingSupervisor", "DealtConnections", "DealtServer"]

log = logging.getLogger("gateway")

_MESSAGE = b"c"
"""What each message carries besides its descriptor (a message must carry a byte)."""

_CLIENT_GONE = frozenset({errno.ECONNABORTED, errno.EPROTO, errno.EINTR, errno.EAGAIN})
"""``accept()`` errors about one client that left before it was accepted: the next one."""

_RECEIVED_AT_ONCE = 64
"""Connections a worker takes from its pair per wake-up before the event loop runs on."""


class ConnectionDealer:
    """The supervisor's side: accept on ``listener`` and pass each connection to the next of
    ``workers`` socket pairs, in turn."""

    def __init__(self, listener: socket.socket, workers: int) -> None:
        if workers < 1:
            raise ValueError("a dealer needs at least one worker")
        self._listener = listener
        self._pairs = [
            socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET) for _ in range(workers)
        ]
        for dealer_end, _ in self._pairs:
            dealer_end.setblocking(False)  # a full pair (a worker not reading) is skipped
        self._next = 0
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="connection-dealer", daemon=True)
        self.dealt = [0] * workers
        """Connections passed to each worker so far."""

    def worker_end(self, index: int) -> socket.socket:
        """The end of worker ``index``'s pair its process receives connections on."""
        return self._pairs[index][1]

    def start(self, backlog: int = 2048) -> None:
        """Listen (uvicorn's workers would, on their own event loops) and start dealing."""
        self._listener.setblocking(True)
        self._listener.listen(backlog)
        self._thread.start()

    def stop(self) -> None:
        """Stop accepting (the port refuses connections from here on) and end the thread."""
        self._stopping = True
        with contextlib.suppress(OSError):  # already stopped
            # Wakes the thread's accept() (EINVAL) on Linux; closing alone would not.
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def close(self) -> None:
        """Close every pair (after :meth:`stop`, once the workers are gone)."""
        for dealer_end, worker_end in self._pairs:
            dealer_end.close()
            worker_end.close()

    def deal(self, connection: socket.socket) -> int | None:
        """Pass ``connection`` to the next worker whose pair has room; its index, or None when
        every pair is full (the caller closes the connection). The caller keeps and closes its
        own descriptor: the worker receives a copy."""
        workers = len(self._pairs)
        for _ in range(workers):
            index = self._next
            self._next = (index + 1) % workers
            try:
                socket.send_fds(self._pairs[index][0], [_MESSAGE], [connection.fileno()])
            except OSError:  # full (EAGAIN), or too many descriptors in flight (ETOOMANYREFS)
                continue
            self.dealt[index] += 1
            return index
        return None

    def _run(self) -> None:
        while not self._stopping:
            try:
                connection, _ = self._listener.accept()
            except OSError as error:
                if self._stopping:
                    return
                if error.errno not in _CLIENT_GONE:
                    # Out of descriptors or memory, most likely: connections wait in the
                    # backlog meanwhile.
                    log.warning("accepting a connection failed (%s); retrying in 0.1 s", error)
                    time.sleep(0.1)
                continue
            with connection:
                if connection.family in (socket.AF_INET, socket.AF_INET6):
                    # What uvicorn's event loop sets on what it accepts: answers go out at once.
                    connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                if self.deal(connection) is None:
                    log.warning("every worker's queue of new connections is full: one closed")


class DealtConnections:
    """A worker's side: serve each connection arriving on ``channel`` with ``protocol_factory``.

    Stands where uvicorn keeps its listening servers (``close``, ``wait_closed``).
    """

    def __init__(self, channel: socket.socket, protocol_factory: Any) -> None:
        self._loop = asyncio.get_running_loop()
        self._channel = channel
        self._protocol_factory = protocol_factory
        self._opening: set[asyncio.Task[Any]] = set()
        self._closed = False
        channel.setblocking(False)
        self._loop.add_reader(channel.fileno(), self._receive)

    def _receive(self) -> None:
        for _ in range(_RECEIVED_AT_ONCE):
            try:
                message, descriptors, _flags, _address = socket.recv_fds(
                    self._channel, len(_MESSAGE), 4
                )
            except BlockingIOError:
                return
            except OSError as error:
                log.error("the supervisor's connection channel failed: %s", error)
                self.close()
                return
            if not message and not descriptors:  # the supervisor is gone
                self.close()
                return
            for descriptor in descriptors:
                self._open(socket.socket(fileno=descriptor))

    def _open(self, connection: socket.socket) -> None:
        if self._closed:
            connection.close()
            return
        task = self._loop.create_task(self._serve(connection))
        self._opening.add(task)
        task.add_done_callback(self._opening.discard)

    async def _serve(self, connection: socket.socket) -> None:
        try:
            await self._loop.connect_accepted_socket(self._protocol_factory, connection)
        except OSError:  # the client is already gone
            connection.close()

    def close(self) -> None:
        """Take no more connections (the ones open stay open)."""
        if self._closed:
            return
        self._closed = True
        self._loop.remove_reader(self._channel.fileno())

    async def wait_closed(self) -> None:
        if self._opening:
            await asyncio.gather(*self._opening, return_exceptions=True)


class DealtServer(GatewayServer):
    """The gateway's server in a worker: its connections come from the supervisor's dealer
    through the sockets it is given (its ends of the pairs), not from a listening socket."""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        # uvicorn's startup, with DealtConnections where it would listen.
        await self.lifespan.startup()
        if self.lifespan.should_exit:
            sys.exit(STARTUP_FAILURE)
        config = self.config

        def create_protocol(_loop: asyncio.AbstractEventLoop | None = None) -> asyncio.Protocol:
            return config.http_protocol_class(  # type: ignore[call-arg]
                config=config,
                server_state=self.server_state,
                app_state=self.lifespan.state,
                _loop=_loop,
            )

        self.servers = [DealtConnections(s, create_protocol) for s in sockets or ()]  # type: ignore[misc]
        self.started = True


class DealtProcess(Process):
    """uvicorn's worker process, running :class:`DealtServer`."""

    @property
    def server(self) -> DealtServer:
        if self._server is None:
            self._server = DealtServer(config=self.config)
        return self._server  # type: ignore[return-value]


class DealingSupervisor(Multiprocess):
    """uvicorn's supervisor (signals, health checks, restarts), with the connections on
    ``listener`` dealt to its workers by a :class:`ConnectionDealer`."""

    def __init__(self, config: Config, listener: socket.socket) -> None:
        super().__init__(config, sockets=[])
        self.dealer = ConnectionDealer(listener, config.workers)

    def _spawn(self, index: int) -> DealtProcess:
        process = DealtProcess(self.config, [self.dealer.worker_end(index)])
        process.start()
        return process

    def init_processes(self) -> None:
        for index in range(self.processes_num):
            self.processes.append(self._spawn(index))
        self.dealer.start(self.config.backlog)

    def terminate_all(self) -> None:
        self.dealer.stop()  # nothing more for workers on their way out
        super().terminate_all()

    def run(self) -> None:
        try:
            super().run()
        finally:
            self.dealer.stop()
            self.dealer.close()

    def restart_all(self) -> None:
        """uvicorn's (SIGHUP): each worker replaced in turn once its replacement is ready."""
        for index, old in enumerate(self.processes):
            if self.should_exit.is_set():
                return
            new = self._spawn(index)
            if not new.wait_until_ready(self.config.timeout_worker_healthcheck, self.should_exit):
                new.kill()
                new.join()
                if not self.should_exit.is_set():
                    log.error("worker [%s] was not ready in time; keeping [%s]", new.pid, old.pid)
                return
            old.terminate()
            old.join()
            self.processes[index] = new

    def keep_subprocess_alive(self) -> None:
        """uvicorn's: a worker that died or hangs is replaced (on the same pair)."""
        if self.should_exit.is_set():
            return
        for index, process in enumerate(self.processes):
            if process.is_alive(timeout=self.config.timeout_worker_healthcheck):
                continue
            process.kill()
            process.join()
            if process.pid is not None:
                forget_process(process.pid)
            if process.exitcode == STARTUP_FAILURE:
                log.error("worker [%s] failed to start: stopping", process.pid)
                self.should_exit.set()
                return
            if self.should_exit.is_set():
                return
            log.info("worker [%s] died (exit code %s): replacing it", process.pid, process.exitcode)
            self.processes[index] = self._spawn(index)
