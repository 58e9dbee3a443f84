"""Wall and CPU seconds of the landing's phases, recorded only when ``PIPELINE_PROFILE`` names a file.

The load names the table and file being worked on (``with labelled(table=..., file=...)``) and wraps
each phase of the real code path (``with phase("parse")``); with the variable unset that costs one
environment lookup. With it set, each phase appends one JSON
line to that file: its labels, when it started (epoch seconds), its wall seconds and the process's
CPU seconds meanwhile (every thread's, DuckDB's workers included, so both cores count; phases that
overlap in threads each count the CPU of both). ``python -m bench.profile`` reads the file.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

PROFILE_ENV = "PIPELINE_PROFILE"
_write_lock = threading.Lock()
_labels: ContextVar[tuple[tuple[str, str], ...]] = ContextVar("profile_labels", default=())


@contextmanager
def labelled(**labels: str) -> Iterator[None]:
    """Every phase timed inside the block (in this thread or context) carries ``labels``."""
    token = _labels.set((*_labels.get(), *labels.items()))
    try:
        yield
    finally:
        _labels.reset(token)


@contextmanager
def phase(name: str) -> Iterator[None]:
    """Time the block as the phase ``name``, with the current labels, when profiling is on."""
    path = os.environ.get(PROFILE_ENV)
    if not path:
        yield
        return
    started, wall, cpu = time.time(), time.perf_counter(), time.process_time()
    try:
        yield
    finally:
        record = {
            "phase": name,
            **dict(_labels.get()),
            "started": started,
            "wall_seconds": time.perf_counter() - wall,
            "cpu_seconds": time.process_time() - cpu,
        }
        with _write_lock, open(path, "a", encoding="utf-8") as profile:
            profile.write(json.dumps(record) + "\n")
