"""PostgreSQL advisory locks: writers of one DuckLake table serialized across processes and machines.

A lock is held by a PostgreSQL session of its own (autocommit), opened on the lake's catalog
database. PostgreSQL releases it when the session ends, so a writer that dies — SIGKILL, a lost
pod, a network partition once TCP gives up — cannot leave a table locked. Waiting is bounded by
``lock_timeout``; the error then names the session that holds the lock (its application name says
which host and process).

psycopg2 is imported when a session opens: only the DuckLake backend opens one, and every load of
the code location would otherwise pay for its import.
"""

from __future__ import annotations

import hashlib
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager

from pipeline.warehouse.connection import WarehouseLockTimeout

# Namespaces the keys so that another application's advisory locks in the same database do not
# collide with ours (they would only wait, never corrupt anything).
KEY_PREFIX = "pipeline-ducklake:"


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for ``name`` (pg_advisory_lock(bigint))."""
    digest = hashlib.sha256((KEY_PREFIX + name).encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def application_name() -> str:
    return f"pipeline writer {socket.gethostname()} pid {os.getpid()}"[:63]


def session(catalog: str):
    """A new autocommit session on the catalog database (libpq reads PGPASSWORD if needed)."""
    import psycopg2

    conn = psycopg2.connect(catalog, application_name=application_name(), connect_timeout=30)
    conn.autocommit = True
    return conn


def catalog_exists(catalog: str) -> bool:
    """Whether DuckLake's metadata tables exist in the catalog database yet."""
    conn = session(catalog)
    try:
        with conn.cursor() as cursor:
            cursor.execute("select to_regclass('ducklake_metadata') is not null")
            return bool(cursor.fetchone()[0])
    finally:
        conn.close()


def holders(cursor, key: int) -> list[str]:
    """Who holds the advisory lock ``key`` now: application name, pid and client address."""
    cursor.execute(
        "select a.application_name, a.pid, a.client_addr::text from pg_locks l "
        "join pg_stat_activity a on a.pid = l.pid "
        "where l.locktype = 'advisory' and l.granted and l.database = "
        "(select oid from pg_database where datname = current_database()) "
        "and l.classid::bigint = %s and l.objid::bigint = %s and l.objsubid = 1",
        [(key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF],
    )
    return [
        f"{name or 'unnamed session'} (backend pid {pid}, {addr or 'local'})" for name, pid, addr in cursor
    ]


@contextmanager
def advisory_lock(catalog: str, name: str, timeout_seconds: float) -> Iterator[None]:
    """Hold the session-level advisory lock ``name`` in the catalog's database for the block."""
    from psycopg2 import errors

    key = lock_key(name)
    conn = session(catalog)
    try:
        with conn.cursor() as cursor:
            cursor.execute(
                "select set_config('lock_timeout', %s, false)", [f"{int(timeout_seconds * 1000)}ms"]
            )
            try:
                cursor.execute("select pg_advisory_lock(%s)", [key])
            except errors.LockNotAvailable as error:
                held_by = ", ".join(holders(cursor, key)) or "a session that has since ended"
                raise WarehouseLockTimeout(
                    f"The lake's write lock {name!r} stayed held for {timeout_seconds:.0f} s by "
                    f"{held_by}; retry when that write has finished."
                ) from error
        yield
    finally:
        # Ending the session releases the lock, whatever state the block left it in.
        conn.close()


def is_locked(catalog: str, name: str) -> bool:
    """Whether some session holds the advisory lock ``name`` now (for tests and diagnostics)."""
    conn = session(catalog)
    try:
        with conn.cursor() as cursor:
            return bool(holders(cursor, lock_key(name)))
    finally:
        conn.close()
