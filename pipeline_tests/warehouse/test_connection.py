"""Warehouse connections: one process at a time across processes, re-entrant within one, waiting
for a holder to finish rather than failing on DuckDB's lock."""

import subprocess
import sys
import textwrap
import time

import duckdb
import pytest

from pipeline.warehouse import connection as warehouse


def hold_lock_in_another_process(database, seconds):
    script = textwrap.dedent(
        f"""
        import sys, time
        from pipeline.warehouse import connection as warehouse
        with warehouse.connect({str(database)!r}) as conn:
            conn.execute("create table if not exists held as select 1 as x").fetchall()
            print("held", flush=True)
            time.sleep({seconds})
        """
    )
    holder = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    return holder


def test_nested_connections_in_one_process_do_not_deadlock(tmp_path):
    database = tmp_path / "w.duckdb"
    with warehouse.connect(database, timeout_seconds=2) as outer:
        outer.execute("create table t as select 1 as x").fetchall()
        with warehouse.connect(database, timeout_seconds=2) as inner:
            assert inner.execute("select count(*) from t").fetchall() == [(1,)]


@pytest.mark.integration  # starts a process holding the lock
def test_a_writer_waits_for_another_process_to_finish(tmp_path):
    database = tmp_path / "w.duckdb"
    holder = hold_lock_in_another_process(database, seconds=1.5)
    started = time.monotonic()
    with warehouse.connect(database, timeout_seconds=30) as conn:
        assert conn.execute("select count(*) from held").fetchall() == [(1,)]
    assert time.monotonic() - started >= 0.5
    assert holder.wait(timeout=30) == 0


@pytest.mark.integration  # starts a process holding the lock
def test_the_wait_ends_with_an_error_naming_the_file_and_holder(tmp_path):
    database = tmp_path / "w.duckdb"
    holder = hold_lock_in_another_process(database, seconds=30)
    try:
        with (
            pytest.raises(warehouse.WarehouseLockTimeout) as raised,
            warehouse.connect(database, timeout_seconds=0.5),
        ):
            pass
        assert str(database) in str(raised.value)
        assert f"PID {holder.pid}" in str(raised.value)
    finally:
        holder.kill()
        holder.wait()


def test_transaction_commits_all_or_nothing(tmp_path):
    database = tmp_path / "w.duckdb"
    with warehouse.connect(database) as conn:
        conn.execute("create table t (x integer)").fetchall()
        with pytest.raises(RuntimeError), warehouse.transaction(conn):
            conn.execute("insert into t values (1)").fetchall()
            raise RuntimeError("failed between statements")
        with warehouse.transaction(conn):
            conn.execute("insert into t values (2)").fetchall()
        assert conn.execute("select * from t").fetchall() == [(2,)]


SETTINGS = "select current_setting('threads'), current_setting('memory_limit')"


def test_connections_have_a_deliberate_thread_count_and_memory_limit(tmp_path):
    database = tmp_path / "w.duckdb"
    with warehouse.connect(database) as conn:
        assert conn.execute(SETTINGS).fetchone() == (2, "572.2 MiB")  # DEFAULT_THREADS, 600MB (6e8 B)
    with warehouse.connect(
        database, threads=1, memory_limit="300MB", config={"max_temp_directory_size": "1GB"}
    ) as conn:
        assert conn.execute(SETTINGS).fetchone() == (1, "286.1 MiB")
        assert conn.execute("select current_setting('max_temp_directory_size')").fetchone() == ("953.6 MiB",)


def test_threads_and_memory_limit_are_not_taken_from_config(tmp_path):
    with (
        pytest.raises(ValueError, match="memory_limit"),
        warehouse.connect(tmp_path / "w.duckdb", config={"memory_limit": "2GB"}),
    ):
        pass


def test_the_warehouse_resource_passes_its_settings(tmp_path):
    from pipeline.warehouse.resources import Warehouse

    with Warehouse(path=str(tmp_path / "w.duckdb"), threads=1, memory_limit="500MB").connect() as conn:
        assert conn.execute(SETTINGS).fetchone() == (1, "476.8 MiB")


def test_settings_apply_when_the_process_already_has_the_file_open(tmp_path):
    """DuckDB shares one instance per file and process and refuses a second open with another config."""
    database = tmp_path / "w.duckdb"
    with warehouse.connect(database) as conn:
        conn.execute("create table t as select 1 as x").fetchall()
    with duckdb.connect(str(database), read_only=True) as plain:
        with warehouse.connect(database, read_only=True, threads=1, memory_limit="500MB") as conn:
            assert conn.execute(SETTINGS).fetchone() == (1, "476.8 MiB")
            assert conn.execute("select x from t").fetchall() == [(1,)]
        assert plain.execute("select x from t").fetchall() == [(1,)]
