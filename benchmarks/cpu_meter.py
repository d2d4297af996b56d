"""CPU seconds spent by each part of a benchmark: server processes, PostgreSQL backends.

Read from ``/proc/<pid>/stat`` (user + system time), so the figures hold on a busy
machine where wall-clock times do not: a part's CPU per unit of work is what it costs,
whatever else the machine runs. Linux only.

- :func:`cpu_seconds` of one process (all its threads);
- :func:`machine_seconds`: the whole machine's busy and total CPU time (every core);
- :class:`PostgresBackends` follows the backends of one database (the children of the
  postmaster whose title names it), sampling them on a thread, since a backend's time
  leaves with it when its connection closes.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (0.0 once it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime (fields 14, 15)


def machine_seconds() -> tuple[float, float]:
    """The whole machine's (busy, total) CPU seconds so far, summed over every core
    (``/proc/stat``: busy is everything but idle and iowait). Two readings give the
    cores in use meanwhile: busy difference / wall seconds."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    total = sum(fields[:8])  # user nice system idle iowait irq softirq steal (guest is in user)
    idle = fields[3] + fields[4]
    return (total - idle) / _TICK, total / _TICK


def parent_pid(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat[stat.rindex(")") + 2 :].split()[1])


class PostgresBackends:
    """The CPU seconds of the backends serving database ``database`` between
    :meth:`start` and :meth:`stop` (connections opened meanwhile included).

    ``postmaster`` is the pid of the server's main process (the parent of a backend,
    ``parent_pid(pg_backend_pid())``). A backend that ends between two samples loses
    at most one interval of its time.
    """

    def __init__(self, postmaster: int, database: str, interval_s: float = 0.05) -> None:
        self.postmaster, self.interval_s = postmaster, interval_s
        self.marker = f" {database} ".encode()
        self._first: dict[int, float] = {}
        self._last: dict[int, float] = {}
        self._ours: dict[int, bool] = {}
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._sample(initial=True)
        self._thread.start()

    @property
    def connections(self) -> int:
        """How many backends served the database meantime (one per connection)."""
        return len(self._last)

    def sample(self) -> float:
        """The CPU seconds the database's backends used since :meth:`start`, so far."""
        with self._lock:
            self._sample()
            return sum(self._last[pid] - self._first.get(pid, 0.0) for pid in self._last)

    def stop(self) -> float:
        """Stop sampling; the CPU seconds the database's backends used meanwhile."""
        self._stop.set()
        self._thread.join()
        return self.sample()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            with self._lock:
                self._sample()

    def _children(self) -> list[int]:
        try:
            text = Path(f"/proc/{self.postmaster}/task/{self.postmaster}/children").read_text()
        except FileNotFoundError:
            return []
        return [int(pid) for pid in text.split()]

    def _is_ours(self, pid: int) -> bool:
        known = self._ours.get(pid)
        if known is None:
            try:
                title = Path(f"/proc/{pid}/cmdline").read_bytes()
            except (FileNotFoundError, ProcessLookupError):
                return False
            # "postgres: user database host(port) state": the title may be set a
            # moment after the fork; ask again next time until it names a database.
            if b"(" not in title:
                return False
            known = self._ours[pid] = self.marker in title
        return known

    def _sample(self, *, initial: bool = False) -> None:
        for pid in self._children():
            if not self._is_ours(pid):
                continue
            seconds = cpu_seconds(pid)
            if seconds == 0.0 and pid in self._last:
                continue  # gone (or the pid taken again): keep what was seen
            if initial:
                self._first[pid] = seconds
            self._last[pid] = seconds
