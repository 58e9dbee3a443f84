"""Connections to the DuckDB warehouse file, serialized across processes.

DuckDB lets one process hold a database file for writing, and any other process that opens it —
even read-only — fails with a lock error or blocks the writer. Every connection this project opens
therefore first takes an exclusive advisory lock on ``<warehouse>.lock``: runs, steps, checks and
maintenance ops queue on it (with backoff and a deadline) instead of failing on DuckDB's lock, and
the error after the deadline names the file and the process that holds it.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from pipeline.constants import DEFS_DIR
from pipeline.warehouse.sql_files import Slot, load_sql

MAX_LOCK_POLL_SECONDS = 0.25

# DuckDB's own defaults are a thread per core and 80 % of the machine's memory for every
# connection. This machine has 2 cores and 24 GiB shared by several engineers' processes, and one
# step holds the warehouse at a time: 2 threads use both cores. DuckDB keeps written and read
# blocks cached up to its limit: the raw load of the 20 M-row benchmark held 1 GiB at a 1 GB limit
# and 2 GiB at 8 GB, equally fast, and 0.6 GB holds what a step needs (a landed file's parsed text,
# the largest staging join). Beyond the limit DuckDB spills sorts, joins and aggregations to
# ``<warehouse>.tmp`` instead of growing; see bench/RESULTS.md for the figures.
DEFAULT_THREADS = 2
DEFAULT_MEMORY_LIMIT = "600MB"


class WarehouseLockTimeout(RuntimeError):
    """The warehouse stayed locked by another process past the deadline."""


class _ProcessLock:
    """An inter-process flock that the threads of one process share re-entrantly.

    flock belongs to an open file description, so a second ``open()`` + ``flock`` in a process that
    already holds the lock would deadlock against itself; nested and concurrent users inside one
    process share a single descriptor and count their holds instead.
    """

    def __init__(self, lock_path: Path):
        self.lock_path = lock_path
        self._mutex = threading.Lock()
        self._holds = 0
        self._fd: int | None = None

    def acquire(self, timeout_seconds: float) -> None:
        deadline = time.monotonic() + timeout_seconds
        delay = 0.05
        while True:
            with self._mutex:
                if self._fd is not None:
                    self._holds += 1
                    return
                self.lock_path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    os.close(fd)
                else:
                    os.ftruncate(fd, 0)
                    os.write(fd, f"{os.getpid()}\n".encode())
                    self._fd, self._holds = fd, 1
                    return
            if time.monotonic() >= deadline:
                raise WarehouseLockTimeout(
                    f"Warehouse {self.lock_path.with_suffix('')} is locked by another process "
                    f"({_lock_holder(self.lock_path)}) and stayed locked for {timeout_seconds:.0f} s; "
                    "retry when that run has finished."
                )
            time.sleep(min(delay, max(deadline - time.monotonic(), 0.01)))
            # A waiter notices a release within a quarter second: with steps of a few hundred
            # milliseconds queued from several runs, a longer backoff leaves the warehouse idle.
            delay = min(delay * 2, MAX_LOCK_POLL_SECONDS)

    def release(self) -> None:
        with self._mutex:
            self._holds -= 1
            if self._holds == 0 and self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
                os.close(self._fd)
                self._fd = None


def _lock_holder(lock_path: Path) -> str:
    try:
        pid = lock_path.read_text().strip()
    except OSError:
        pid = ""
    return f"PID {pid}" if pid else "unknown holder"


_locks: dict[Path, _ProcessLock] = {}
_locks_mutex = threading.Lock()


def _process_lock(database: Path) -> _ProcessLock:
    lock_path = database.with_name(database.name + ".lock")
    with _locks_mutex:
        return _locks.setdefault(lock_path, _ProcessLock(lock_path))


@contextmanager
def warehouse_lock(database: str | Path, timeout_seconds: float) -> Iterator[None]:
    """Hold the warehouse's inter-process lock for the duration of the block."""
    lock = _process_lock(Path(database).resolve())
    lock.acquire(timeout_seconds)
    try:
        yield
    finally:
        lock.release()


@contextmanager
def connect(
    database: str | Path,
    *,
    timeout_seconds: float = 300.0,
    read_only: bool = False,
    config: Mapping[str, Any] | None = None,
    threads: int = DEFAULT_THREADS,
    memory_limit: str = DEFAULT_MEMORY_LIMIT,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse under its lock; the connection is closed however the block ends.

    ``threads`` and ``memory_limit`` are DuckDB's settings of that name; ``config`` holds any other
    DuckDB setting. A process outside this project (a DuckDB shell, say) can hold the file without
    taking our lock: DuckDB's own lock error is then retried with backoff until the same deadline.
    """
    settings = dict(config or {})
    if overlap := {"threads", "memory_limit"} & settings.keys():
        raise ValueError(f"Set {', '.join(sorted(overlap))} as the connection's own argument, not in config.")
    database = Path(database)
    database.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with warehouse_lock(database, timeout_seconds):
        delay = 0.1
        while True:
            try:
                conn = duckdb.connect(str(database), read_only=read_only, config=settings)
                break
            except duckdb.IOException as error:
                if "lock" not in str(error).lower():
                    raise
                remaining = timeout_seconds - (time.monotonic() - started)
                if remaining <= 0:
                    raise WarehouseLockTimeout(
                        f"Warehouse {database} is held by a process outside this pipeline and "
                        f"stayed locked for {timeout_seconds:.0f} s: {error}"
                    ) from error
                time.sleep(min(delay, remaining))
                delay = min(delay * 2, 5.0)
        try:
            # Timestamps render and bin in UTC whatever the machine's zone.
            conn.execute("set TimeZone = 'UTC'").fetchall()
            # Set after opening, not in DuckDB's connect config: a process that already holds the
            # file open (a test's read-only connection, a step's nested connection) shares one
            # database instance, which DuckDB refuses to open again with a different config (the
            # settings then hold for that whole instance).
            conn.execute("set threads = $threads", {"threads": int(threads)}).fetchall()
            conn.execute("set memory_limit = $memory_limit", {"memory_limit": str(memory_limit)}).fetchall()
            yield conn
        finally:
            conn.close()


@contextmanager
def transaction(conn: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """Commit the block's statements together, or none of them."""
    conn.begin()
    try:
        yield conn
    except BaseException:
        conn.rollback()
        raise
    conn.commit()


def table_exists(conn: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(
        conn.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchall()[0][0]
    )


def sql_path(layer: str, name: str) -> Path:
    """``pipeline/defs/<layer>/<name>.sql`` (``name`` may be ``checks/<check>``)."""
    return DEFS_DIR / layer / f"{name}.sql"


def read_sql(layer: str, name: str, **slots: Slot) -> str:
    """The SQL in ``pipeline/defs/<layer>/<name>.sql``, its ``${slot}``s filled from ``slots``."""
    return load_sql(DEFS_DIR / layer, name, **slots)


def sql_code_reference(layer: str, name: str) -> dict[str, Any]:
    """Asset metadata linking the asset to the SQL file that builds it (shown in the UI)."""
    import dagster as dg

    with warnings.catch_warnings():
        # Code references are beta in Dagster 1.13; linking assets to their SQL is worth it.
        warnings.simplefilter("ignore", dg.BetaWarning)
        path = sql_path(layer, name)
        reference = dg.LocalFileCodeReference(file_path=str(path), label=path.name)
        return {"dagster/code_references": dg.CodeReferencesMetadataValue(code_references=[reference])}
