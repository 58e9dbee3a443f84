"""The process's CPU seconds over time, sampled in a thread, so any wall interval gets its CPU.

Dagster records when each step started and ended (epoch seconds), not what it cost the CPU; the
in-process executor runs every step in this process, so the CPU a step used is the process's CPU
clock at its end less that at its start, read from these samples (interpolated between two).
Process CPU counts every thread: DuckDB's workers on both cores included.
"""

from __future__ import annotations

import bisect
import threading
import time

SAMPLE_SECONDS = 0.01


class CpuClock(threading.Thread):
    """Samples ``(time.time(), time.process_time())`` until stopped; ``cpu_at`` reads them."""

    def __init__(self) -> None:
        super().__init__(daemon=True, name="cpu-clock")
        self.walls: list[float] = []
        self.cpus: list[float] = []
        self._stopped = threading.Event()
        self._sample()

    def _sample(self) -> None:
        self.walls.append(time.time())
        self.cpus.append(time.process_time())

    def run(self) -> None:
        while not self._stopped.wait(SAMPLE_SECONDS):
            self._sample()

    def stop(self) -> None:
        self._stopped.set()
        self.join()
        self._sample()

    def cpu_at(self, wall: float) -> float:
        """The process's CPU seconds at epoch time ``wall`` (linear between the samples around it)."""
        after = min(max(bisect.bisect_left(self.walls, wall), 1), len(self.walls) - 1)
        before = after - 1
        span = self.walls[after] - self.walls[before]
        share = 0.0 if span <= 0 else min(max((wall - self.walls[before]) / span, 0.0), 1.0)
        return self.cpus[before] + share * (self.cpus[after] - self.cpus[before])

    def cpu_between(self, start: float, end: float) -> float:
        return self.cpu_at(end) - self.cpu_at(start)
