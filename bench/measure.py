"""Wall time and peak resident memory of a command and every process it starts.

The command runs as a child process. A sampler thread sums the resident set of the child and all
its descendants (found through ``/proc/<pid>/task/<tid>/children``) every 50 ms; the
peak of that sum is the memory the whole process tree held at once — the figure that matters for
the multiprocess executor, whose steps run in their own processes. Sampling can miss a spike
shorter than its interval, so the kernel's own high-water mark is also kept: ``wait4`` reports the
largest peak RSS of any single process of the tree (each descendant reaped by its parent), and the
reported peak is the larger of the two. Shared pages count once per process that maps them, so the
RSS sum is an upper bound for trees of several processes; the proportional set size (PSS, each
shared page split between the processes that map it) is sampled too and is the fairer figure there.

CPU time is user + system time of the whole tree. Processes that outlive their parent (Python's
forkserver, say) are re-parented to this process, which makes itself a child subreaper for that, so
their time is counted too.
"""

from __future__ import annotations

import ctypes
import os
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
SAMPLE_INTERVAL_SECONDS = 0.05
PSS_EVERY_SAMPLES = 5  # PSS walks the page tables: sampled less often to keep the sampler light
PR_SET_CHILD_SUBREAPER = 36


@dataclass(frozen=True)
class Measurement:
    wall_seconds: float
    cpu_seconds: float  # user + system, every process of the tree
    peak_tree_rss_bytes: int  # max over samples of the sum over the process tree
    peak_single_rss_bytes: int  # kernel high-water mark of the largest single process
    peak_tree_pss_bytes: int  # max over samples of the proportional set size of the tree
    max_processes: int
    returncode: int
    stdout: str
    stderr: str

    @property
    def peak_rss_bytes(self) -> int:
        return max(self.peak_tree_rss_bytes, self.peak_single_rss_bytes)


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it, as far as they are still alive."""
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        try:
            tasks = os.listdir(f"/proc/{current}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                children = Path(f"/proc/{current}/task/{task}/children").read_text().split()
            except OSError:
                continue
            pending.extend(int(child) for child in children)
    return found


def resident_bytes(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_SIZE
    except (OSError, IndexError, ValueError):
        return 0


def proportional_bytes(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except (OSError, IndexError, ValueError):
        pass
    return 0


class _TreeSampler(threading.Thread):
    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_bytes = 0
        self.peak_pss_bytes = 0
        self.max_processes = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        samples = 0
        while not self._stop_event.is_set():
            tree = descendants(self.pid)
            self.peak_bytes = max(self.peak_bytes, sum(resident_bytes(pid) for pid in tree))
            if samples % PSS_EVERY_SAMPLES == 0:
                self.peak_pss_bytes = max(self.peak_pss_bytes, sum(proportional_bytes(pid) for pid in tree))
            self.max_processes = max(self.max_processes, len(tree))
            samples += 1
            self._stop_event.wait(SAMPLE_INTERVAL_SECONDS)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


def measure(
    command: Sequence[str], env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> Measurement:
    """Run ``command`` to completion and measure it; output is captured, not echoed."""
    _become_subreaper()
    started = time.perf_counter()
    process = subprocess.Popen(
        list(command),
        env=dict(env) if env is not None else None,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    sampler = _TreeSampler(process.pid)
    sampler.start()
    # Read the pipes in threads so a chatty child cannot block on a full pipe.
    output: dict[str, str] = {}
    readers = [
        threading.Thread(target=lambda name=name, stream=stream: output.__setitem__(name, stream.read()))
        for name, stream in (("stdout", process.stdout), ("stderr", process.stderr))
    ]
    for reader in readers:
        reader.start()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    cpu = usage.ru_utime + usage.ru_stime
    max_rss_kib = usage.ru_maxrss
    for orphan_usage in _reap_orphans():
        cpu += orphan_usage.ru_utime + orphan_usage.ru_stime
        max_rss_kib = max(max_rss_kib, orphan_usage.ru_maxrss)
    sampler.stop()
    for reader in readers:
        reader.join()
    return Measurement(
        wall_seconds=wall,
        cpu_seconds=cpu,
        peak_tree_rss_bytes=sampler.peak_bytes,
        peak_single_rss_bytes=max_rss_kib * 1024,
        peak_tree_pss_bytes=sampler.peak_pss_bytes,
        max_processes=sampler.max_processes,
        returncode=process.returncode,
        stdout=output.get("stdout", ""),
        stderr=output.get("stderr", ""),
    )


def _become_subreaper() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER) failed")


def _reap_orphans(grace_seconds: float = 30.0) -> list:
    """Wait for descendants re-parented here after the command exited; their resource usage."""
    usages = []
    deadline = time.monotonic() + grace_seconds
    while time.monotonic() < deadline:
        try:
            pid, _, usage = os.wait4(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            time.sleep(0.05)
            continue
        usages.append(usage)
    return usages
