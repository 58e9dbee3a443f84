"""Warehouse maintenance: the job checkpoints, backs up and exports, and what it writes reads back
equal to the warehouse; old backups beyond the configured number are pruned.

The job runs on a copy of the session's built warehouse with a change still in the write-ahead
log, as a run leaves the file before DuckDB's automatic checkpoint.
"""

import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipeline.automation.maintenance import Checkpoint, WarehouseBackup, base_tables
from pipeline_tests.support import definitions_with, make_resources

OLD_BACKUPS = [
    "warehouse-20130101T033000Z-0a1b2c3d.duckdb",
    "warehouse-20130102T033000Z-1a1b2c3d.duckdb",
    "warehouse-20130103T033000Z-2a1b2c3d.duckdb",
]


def _run_config(root: Path, keep_last: int) -> dict:
    return {
        "ops": {
            "backup_warehouse": {"config": {"backup_dir": str(root / "backups")}},
            "export_marts": {"config": {"export_dir": str(root / "exports")}},
            "prune_backups": {"config": {"keep_last": keep_last}},
        }
    }


def _maintenance_job(root: Path) -> dg.JobDefinition:
    return definitions_with(make_resources(root, root / "landing")).resolve_job_def("warehouse_maintenance")


@pytest.fixture(scope="module")
def maintained(tmp_path_factory, built_warehouse):
    root = tmp_path_factory.mktemp("maintenance")
    database = root / "warehouse.duckdb"
    shutil.copyfile(built_warehouse["database"], database)
    conn = duckdb.connect(str(database))
    conn.execute("pragma disable_checkpoint_on_shutdown")
    conn.execute("delete from marts.route_performance where origin = 'LGA'")
    conn.close()
    wal_bytes = database.with_name("warehouse.duckdb.wal").stat().st_size
    (root / "backups").mkdir()
    for name in OLD_BACKUPS:
        (root / "backups" / name).write_bytes(b"an older night's backup")
    (root / "backups" / "README.txt").write_text("restore: copy a backup over the warehouse file")

    with dg.instance_for_test() as instance:
        result = _maintenance_job(root).execute_in_process(
            run_config=_run_config(root, keep_last=2), instance=instance
        )
    assert result.success
    return {"root": root, "database": database, "wal_bytes": wal_bytes, "result": result}


def _differing_rows(conn: duckdb.DuckDBPyConnection, left: str, right: str) -> int:
    return conn.execute(
        f"select (select count(*) from (select * from {left} except all select * from {right})) "
        f"+ (select count(*) from (select * from {right} except all select * from {left}))"
    ).fetchall()[0][0]


@pytest.fixture
def compare(maintained):
    """A DuckDB session with the maintained warehouse attached read-only as ``warehouse``."""
    conn = duckdb.connect()
    conn.execute(f"attach '{maintained['database']}' as warehouse (read_only)")
    yield conn
    conn.close()


def test_checkpoint_folds_the_wal_into_the_file(maintained):
    checkpoint: Checkpoint = maintained["result"].output_for_node("checkpoint_warehouse")
    assert maintained["wal_bytes"] > 0
    assert checkpoint.wal_bytes_before == maintained["wal_bytes"]
    wal = maintained["database"].with_name("warehouse.duckdb.wal")
    assert not wal.exists() or wal.stat().st_size == 0


def test_backup_holds_every_table_exactly(maintained, compare):
    backup: WarehouseBackup = maintained["result"].output_for_node("backup_warehouse")
    compare.execute(f"attach '{backup.path}' as backup (read_only)")

    tables = base_tables(compare, "warehouse")
    assert base_tables(compare, "backup") == tables
    assert len(tables) >= 15
    for schema, table in tables:
        assert _differing_rows(compare, f"warehouse.{schema}.{table}", f"backup.{schema}.{table}") == 0, table
    assert compare.execute("select count(*) from backup.raw.flights").fetchall()[0][0] == 336_776
    # the change that was only in the WAL is in the backup
    assert compare.execute(
        "select count(*) from backup.marts.route_performance where origin = 'LGA'"
    ).fetchall() == [(0,)]
    assert backup.table_rows["raw.weather"] == 26_115


def test_parquet_exports_match_the_marts(maintained, compare):
    exports = maintained["result"].output_for_node("export_marts")
    marts = [table for schema, table in base_tables(compare, "warehouse") if schema == "marts"]

    assert sorted(export.table for export in exports) == [f"marts.{table}" for table in marts]
    export_dir = maintained["root"] / "exports" / "marts"
    assert sorted(path.name for path in export_dir.iterdir()) == sorted(f"{table}.parquet" for table in marts)
    for table in marts:
        parquet = f"read_parquet('{export_dir / f'{table}.parquet'}')"
        assert _differing_rows(compare, f"warehouse.marts.{table}", parquet) == 0, table


def test_only_the_newest_backups_are_kept(maintained):
    backup: WarehouseBackup = maintained["result"].output_for_node("backup_warehouse")
    backups = maintained["root"] / "backups"

    assert sorted(path.name for path in backups.iterdir()) == sorted(
        [Path(backup.path).name, OLD_BACKUPS[-1], "README.txt"]
    )
    assert maintained["result"].output_for_node("prune_backups") == [
        str(backups / name) for name in reversed(OLD_BACKUPS[:-1])
    ]


def test_missing_warehouse_fails_without_creating_one(tmp_path):
    with dg.instance_for_test() as instance:
        result = _maintenance_job(tmp_path).execute_in_process(
            run_config=_run_config(tmp_path, keep_last=3), instance=instance, raise_on_error=False
        )

    assert not result.success
    [failure] = result.get_step_failure_events()
    assert failure.step_key == "checkpoint_warehouse"
    assert failure.step_failure_data.user_failure_data.description == (
        f"No warehouse at {tmp_path / 'warehouse.duckdb'}: nothing to maintain. Load data first."
    )
    assert not (tmp_path / "warehouse.duckdb").exists()
    assert not (tmp_path / "backups").exists()
