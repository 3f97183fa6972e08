"""CPU time and resident memory of a server's process tree, read from Linux's ``/proc``.

A server is one process (``uvicorn``) or a supervisor with worker children (``--workers N``), so
every reading covers the process and all its live descendants, plus what terminated children
left in the parent's ``cutime``/``cstime``.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from types import TracebackType

__all__ = ["PeakRss", "cpu_seconds", "process_tree", "thread_cpu_seconds"]

_PROC = Path("/proc")
_TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of ``/proc/<pid>/stat`` after the command name (field 3, ``state``, first)."""
    try:
        text = (_PROC / str(pid) / "stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # The command name is in parentheses and may itself contain spaces and parentheses.
    return text[text.rindex(")") + 2 :].split()


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its live descendants (empty if ``pid`` is gone)."""
    children: dict[int, list[int]] = {}
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat_fields(int(entry.name))
        if fields is not None:
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    if _stat_fields(pid) is None:
        return []
    tree, pending = [], [pid]
    while pending:
        current = pending.pop()
        tree.append(current)
        pending.extend(children.get(current, ()))
    return tree


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time used so far by ``pid``'s process tree, in seconds.

    ``utime + stime`` of every live process in the tree, plus ``cutime + cstime`` (children
    that already exited and were waited for). Resolution: one clock tick (usually 10 ms).
    """
    ticks = 0
    for member in process_tree(pid):
        fields = _stat_fields(member)
        if fields is not None:
            # Fields 14-17 of stat (utime, stime, cutime, cstime) are 11-14 here.
            ticks += sum(int(value) for value in fields[11:15])
    return ticks / _TICKS_PER_SECOND


def thread_cpu_seconds(pid: int) -> float:
    """Time on a CPU of every live thread of ``pid``'s process tree so far, in seconds, to the
    nanosecond: the first field of ``/proc/<pid>/task/<tid>/schedstat``, summed.

    For one request's CPU (a few milliseconds), where :func:`cpu_seconds`'s clock ticks are too
    coarse. Threads that have exited are not counted (:func:`cpu_seconds` counts them); read it
    around work done by long-lived threads (a server's event loop).
    """
    nanoseconds = 0
    for member in process_tree(pid):
        try:
            tasks = list((_PROC / str(member) / "task").iterdir())
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        for task in tasks:
            try:
                nanoseconds += int((task / "schedstat").read_text().split()[0])
            except (FileNotFoundError, ProcessLookupError, PermissionError, IndexError):
                continue
    return nanoseconds / 1e9


def _status_kib(pid: int, key: str) -> int | None:
    try:
        lines = (_PROC / str(pid) / "status").read_text().splitlines()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    for line in lines:
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return None


def _reset_peak(pid: int) -> bool:
    """Reset the kernel's peak-RSS mark (``VmHWM``) of one process; False if not allowed."""
    try:
        (_PROC / str(pid) / "clear_refs").write_text("5")
    except OSError:
        return False
    return True


class PeakRss:
    """The largest resident set of any one process of a tree while the block runs.

    On entry, resets each process's ``VmHWM`` (writing ``5`` to ``clear_refs``, Linux 4.0+,
    needs the right to write it) and samples ``VmRSS`` every ``interval`` seconds; on exit,
    :attr:`peak_mib` is the larger of the sampled maximum and the kernel's ``VmHWM`` (which
    also catches spikes between samples, where the reset worked). One process, not the sum:
    the target is the RSS of one worker. :attr:`total_mib` is the largest sampled sum over the
    tree (all of Mesh's workers, or the gateway's): samples only, as the kernel's marks of
    different processes need not be simultaneous.
    """

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        self._pid = pid
        self._interval = interval
        self._peak_kib = 0
        self._total_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="rss-sampler", daemon=True)
        self._reset: set[int] = set()

    @property
    def peak_mib(self) -> float:
        """The peak resident set size in MiB (0 before the block has run)."""
        return self._peak_kib / 1024

    @property
    def total_mib(self) -> float:
        """The largest sampled sum of the tree's resident sets, in MiB."""
        return self._total_kib / 1024

    def _observe(self) -> None:
        total = 0
        for member in process_tree(self._pid):
            rss = _status_kib(member, "VmRSS")
            if rss is not None:
                self._peak_kib = max(self._peak_kib, rss)
                total += rss
        self._total_kib = max(self._total_kib, total)

    def _sample(self) -> None:
        while not self._stop.wait(self._interval):
            self._observe()

    def __enter__(self) -> PeakRss:
        self._reset = {member for member in process_tree(self._pid) if _reset_peak(member)}
        self._observe()
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()
        self._observe()
        for member in process_tree(self._pid):
            hwm = _status_kib(member, "VmHWM") if member in self._reset else None
            if hwm is not None:
                self._peak_kib = max(self._peak_kib, hwm)
