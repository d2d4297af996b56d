"""Timing shared by the benchmarks: the wall clock and this process's CPU time of each
run, their percentiles, and the machine's load average.

On a shared, busy machine the CPU time (this process's own, SQLite's work included; a
PostgreSQL server's is not) is what a call costs; the wall clock also counts the time
other processes had the CPU.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any


def percentile(samples: list[float], fraction: float) -> float:
    """The sample at ``fraction`` (0.95 for p95) of the sorted samples."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


@dataclass
class Timings:
    """Milliseconds of wall clock and of this process's CPU time, one pair a run."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    @contextmanager
    def run(self) -> Iterator[None]:
        """Times the block as one run (a run that raises is not counted)."""
        begin, begin_cpu = time.perf_counter(), time.process_time()
        yield
        self.wall.append((time.perf_counter() - begin) * 1000)
        self.cpu.append((time.process_time() - begin_cpu) * 1000)

    @property
    def p50(self) -> float:
        return statistics.median(self.wall)

    @property
    def p95(self) -> float:
        return percentile(self.wall, 0.95)

    @property
    def cpu_p50(self) -> float:
        return statistics.median(self.cpu)

    @property
    def cpu_p95(self) -> float:
        return percentile(self.cpu, 0.95)


def time_calls(call: Callable[[], Any], runs: int) -> Timings:
    """``runs`` timings of ``call()``."""
    timings = Timings()
    for _ in range(runs):
        with timings.run():
            call()
    return timings


def time_pages(client: Any, urls: list[str], timings: Timings | None = None) -> Timings:
    """Times a GET of each URL through a Flask test client, body read; each must answer
    200. Adds to ``timings`` when given."""
    timings = timings if timings is not None else Timings()
    for url in urls:
        with timings.run():
            response = client.get(url)
            response.get_data()
        assert response.status_code == 200, (url, response.status_code)
        response.close()
    return timings


def load_average() -> str:
    """The last minute's load average and the core count, as the benchmarks print it."""
    return f"{os.getloadavg()[0]:.1f} (on {os.cpu_count()} cores)"


def load_averages() -> str:
    """The load averages of the last 1, 5 and 15 minutes, as ``"2.73 6.37 11.05"``."""
    return " ".join(f"{load:.2f}" for load in os.getloadavg())


def print_results(lines: list[str]) -> None:
    """After the progress lines: a blank line, the load averages, then the results."""
    print()
    print(f"load average: {load_averages()}")
    for line in lines:
        print(line)
