"""Warehouse maintenance: checkpoint, a consistent backup (keeping the last N), Parquet exports.

The ops run in this order, each taking the previous one's output:

1. ``checkpoint_warehouse`` folds the write-ahead log into the DuckDB file.
2. ``backup_warehouse`` copies the whole database into a new DuckDB file with ``COPY FROM
   DATABASE``, inside one transaction while holding the warehouse lock: the copy is one snapshot,
   compact, and opens directly with ``duckdb.connect`` (a restore is a file copy back). A plain
   file copy would also capture free blocks and depends on the WAL being empty; ``EXPORT
   DATABASE`` produces a folder that must be re-imported before it can be queried. The copy is
   written under a ``.part`` name, its row counts checked against the warehouse, then renamed.
3. ``export_marts`` writes each mart from that backup to Parquet, so the exports and the backup
   are the same snapshot and the warehouse lock is not held while Parquet is written.
4. ``prune_backups`` deletes all but the newest N backups.
"""

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import dagster as dg
import duckdb
from pydantic import Field

from pipeline import constants
from pipeline.automation.conditions import TRANSIENT_FAILURE_RETRY
from pipeline.files import PARTIAL_SUFFIX
from pipeline.paths import resolve_path
from pipeline.warehouse.identifiers import qualified_table_name
from pipeline.warehouse.outputs import INTERMEDIATE_IO_MANAGER
from pipeline.warehouse.resources import Warehouse

BACKUP_NAME_PATTERN = re.compile(r"^warehouse-\d{8}T\d{6}Z-[0-9a-f]{8}\.duckdb$")


class BackupConfig(dg.Config):
    backup_dir: str | None = Field(
        default=None, description="Folder for backups; default $BACKUP_DIR or data/backups."
    )


class PruneConfig(dg.Config):
    keep_last: int = Field(default=7, ge=1, description="How many of the newest backups to keep.")


class ExportConfig(dg.Config):
    export_dir: str | None = Field(
        default=None,
        description="Folder for Parquet exports (one file per mart under marts/); default "
        "$EXPORT_DIR or data/exports.",
    )


@dataclass(frozen=True)
class Checkpoint:
    database: str
    database_bytes: int
    wal_bytes_before: int


@dataclass(frozen=True)
class WarehouseBackup:
    path: str
    table_rows: dict[str, int] = field(default_factory=dict)  # "schema.table" → rows


@dataclass(frozen=True)
class ParquetExport:
    table: str
    path: str
    rows: int


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _wal_path(database: Path) -> Path:
    return database.with_name(database.name + ".wal")


def _require_existing_warehouse(warehouse: Warehouse) -> Path:
    database = warehouse.database
    if not database.is_file():
        # Opening a missing file would create an empty warehouse and back that up.
        raise dg.Failure(
            description=f"No warehouse at {database}: nothing to maintain. Load data first.",
            allow_retries=False,
        )
    return database


def base_tables(conn: duckdb.DuckDBPyConnection, catalog: str) -> list[tuple[str, str]]:
    """(schema, table) of every base table in the attached database ``catalog``, in order."""
    return conn.execute(
        "select table_schema, table_name from information_schema.tables "
        "where table_catalog = ? and table_type = 'BASE TABLE' order by all",
        [catalog],
    ).fetchall()


def _row_counts(conn: duckdb.DuckDBPyConnection, catalog: str) -> dict[str, int]:
    counts = {}
    for schema, table in base_tables(conn, catalog):
        name = qualified_table_name(schema, table)
        counts[name] = conn.execute(f'select count(*) from "{catalog}".{name}').fetchall()[0][0]
    return counts


@dg.op(
    retry_policy=TRANSIENT_FAILURE_RETRY,
    out=dg.Out(io_manager_key=INTERMEDIATE_IO_MANAGER),
)
def checkpoint_warehouse(context: dg.OpExecutionContext, warehouse: Warehouse) -> Checkpoint:
    """Write the warehouse's WAL into the database file."""
    database = _require_existing_warehouse(warehouse)
    wal = _wal_path(database)
    wal_bytes_before = wal.stat().st_size if wal.exists() else 0
    with warehouse.connect() as conn:
        conn.execute("checkpoint").fetchall()
    checkpoint = Checkpoint(str(database), database.stat().st_size, wal_bytes_before)
    context.log.info(
        f"Checkpointed {database}: WAL {wal_bytes_before:,} bytes folded in, "
        f"file now {checkpoint.database_bytes:,} bytes."
    )
    return checkpoint


@dg.op(
    retry_policy=TRANSIENT_FAILURE_RETRY,
    out=dg.Out(io_manager_key=INTERMEDIATE_IO_MANAGER),
)
def backup_warehouse(
    context: dg.OpExecutionContext, config: BackupConfig, checkpoint: Checkpoint, warehouse: Warehouse
) -> WarehouseBackup:
    """Copy the checkpointed warehouse into a new DuckDB file as one consistent snapshot."""
    backup_dir = resolve_path(config.backup_dir, constants.BACKUP_DIR_ENV, constants.DEFAULT_BACKUP_DIR)
    backup_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    final = backup_dir / f"warehouse-{stamp}-{context.run_id[:8]}.duckdb"
    partial = final.with_name(final.name + PARTIAL_SUFFIX)
    partial.unlink(missing_ok=True)  # left by an attempt that crashed mid-copy

    with warehouse.connect() as conn:
        source = conn.execute("select current_database()").fetchall()[0][0]
        # A literal, not a parameter: duckdb 1.5 does not take ATTACH's path as a parameter.
        conn.execute(f"attach {_sql_literal(str(partial))} as backup").fetchall()
        try:
            conn.execute(f'copy from database "{source}" to backup').fetchall()
            expected, copied = _row_counts(conn, source), _row_counts(conn, "backup")
        finally:
            conn.execute("detach backup").fetchall()
    if copied != expected:
        partial.unlink()
        raise dg.Failure(
            description=f"Backup of {checkpoint.database} does not match it: "
            f"warehouse {expected}, backup {copied}. The incomplete copy was deleted.",
            allow_retries=True,
        )
    partial.replace(final)
    context.log.info(f"Backed up {len(copied)} tables ({sum(copied.values()):,} rows) to {final}.")
    context.add_output_metadata(
        {"path": dg.MetadataValue.path(str(final)), "tables": len(copied), "bytes": final.stat().st_size}
    )
    return WarehouseBackup(str(final), copied)


@dg.op(out=dg.Out(io_manager_key=INTERMEDIATE_IO_MANAGER))
def export_marts(
    context: dg.OpExecutionContext, config: ExportConfig, backup: WarehouseBackup
) -> list[ParquetExport]:
    """Write every mart in the backup to ``<export_dir>/marts/<table>.parquet``, replacing the last."""
    export_dir = (
        resolve_path(config.export_dir, constants.EXPORT_DIR_ENV, constants.DEFAULT_EXPORT_DIR)
        / constants.MARTS_SCHEMA
    )
    export_dir.mkdir(parents=True, exist_ok=True)
    marts = {
        name: rows for name, rows in backup.table_rows.items() if name.split(".")[0] == constants.MARTS_SCHEMA
    }
    exports = []
    with duckdb.connect(backup.path, read_only=True) as conn:
        for name, rows in sorted(marts.items()):
            table = name.split(".")[1]
            final = export_dir / f"{table}.parquet"
            partial = final.with_name(final.name + PARTIAL_SUFFIX)
            conn.execute(f"copy {name} to ? (format parquet)", [str(partial)]).fetchall()
            written = conn.execute("select count(*) from read_parquet(?)", [str(partial)]).fetchall()[0][0]
            if written != rows:
                partial.unlink()
                raise dg.Failure(
                    description=f"Parquet export of {name} has {written} rows, the backup {rows}; "
                    f"the previous export at {final} is unchanged."
                )
            partial.replace(final)
            exports.append(ParquetExport(name, str(final), rows))
    context.log.info(f"Exported {len(exports)} marts to {export_dir}.")
    context.add_output_metadata(
        {
            "export_dir": dg.MetadataValue.path(str(export_dir)),
            "tables": dg.MetadataValue.json({export.table: export.rows for export in exports}),
        }
    )
    return exports


@dg.op(out=dg.Out(io_manager_key=INTERMEDIATE_IO_MANAGER))
def prune_backups(context: dg.OpExecutionContext, config: PruneConfig, backup: WarehouseBackup) -> list[str]:
    """Delete all but the newest ``keep_last`` backups beside the one just taken; returns the deleted."""
    newest = Path(backup.path)
    backups = sorted(
        (path for path in newest.parent.iterdir() if BACKUP_NAME_PATTERN.match(path.name)),
        key=lambda path: path.name,  # the name starts with the UTC time it was taken
        reverse=True,
    )
    keep = {newest, *[path for path in backups if path != newest][: config.keep_last - 1]}
    deleted = []
    for path in backups:
        if path not in keep:
            path.unlink()
            deleted.append(str(path))
    context.log.info(f"Kept {len(keep)} backup(s) in {newest.parent}; deleted {len(deleted)}.")
    return deleted


@dg.graph
def warehouse_maintenance():
    """Checkpoint, back up, export the marts from the backup, prune old backups."""
    backup = backup_warehouse(checkpoint_warehouse())
    export_marts(backup)
    prune_backups(backup)
