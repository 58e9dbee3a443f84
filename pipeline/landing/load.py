"""A raw load: the requested landed files received, then each read, checked and inserted inside the write.

In the asset, before the warehouse is opened (``receive``): each requested file is found (plain or
``.gz``, never both), so a missing one fails the run before anything else happens.

In the IO manager's write transaction (``LandedFiles.insert``): each file is copied under
``<archive>/.incoming`` while it is hashed, so what is checked, kept and loaded are the same bytes
even if upstream overwrites the landing file meanwhile. On the warehouse's connection, a sound
copy is parsed, checked by every rule and inserted with its lineage in one streaming statement
(``checked_insert.py``); any other is diagnosed (``ingest.py``: parsed as text, every problem
named by line and column) and, if it turns out acceptable after all, inserted from that parse.
Copying, hashing and the framing scan need no DuckDB: a thread does them for the next files while
DuckDB checks and inserts the current one, so both cores work. If any file has problems, each bad
one is moved to quarantine beside a note of the reason (``rejection.py``) and the load raises: the transaction rolls back and every stored partition stays as it
was. The volume guard (``guard.py``) then sees every file's rows and keys, and may hold the
delivery the same way. Only then do the copies go to the archive, and the transaction commits.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from pipeline.landing import archive, framing, keys
from pipeline.landing.checked_insert import insert_if_sound
from pipeline.landing.coverage import MonthCoverage, check_coverage
from pipeline.landing.guard import Delivery
from pipeline.landing.ingest import Inspection, frame_landed_file, inspect_landed_file
from pipeline.landing.names import COMPRESSED_SUFFIX, UnsafeLandingPath
from pipeline.landing.quarantine import Problem
from pipeline.landing.rejection import RejectedLandingFiles, Rejection, reject
from pipeline.landing.resources import LandingZone
from pipeline.landing.timing import labelled, phase
from pipeline.months import MonthKey
from pipeline.warehouse import changes
from pipeline.warehouse.connection import read_sql
from pipeline.warehouse.identifiers import qualified_table_name
from pipeline.warehouse.outputs import WarehouseLoad
from pipeline.warehouse.tables import Table


@dataclass(frozen=True)
class LandingRequest:
    """One landed file a load needs (its plain ``.csv`` name); ``month_start`` set for monthly files."""

    table: str
    file_name: str
    month_start: date | None = None


class MissingLandingFile(FileNotFoundError):
    """A file the asset needs has not landed."""


class AmbiguousDelivery(FileExistsError):
    """The same file landed both plain and compressed: which one to load is not for us to guess."""


def find_delivery(landing_zone: LandingZone, file_name: str) -> Path:
    """The landed file for ``file_name``: itself, or ``<file_name>.gz``; never both."""
    found = [
        landing_zone.root / name
        for name in (file_name, file_name + COMPRESSED_SUFFIX)
        if (landing_zone.root / name).is_symlink() or (landing_zone.root / name).exists()
    ]
    if not found:
        raise MissingLandingFile(
            f"Expected landing file {landing_zone.root / file_name} (or {file_name}{COMPRESSED_SUFFIX}) "
            "does not exist; upstream has not delivered it yet."
        )
    if len(found) > 1:
        raise AmbiguousDelivery(
            f"Both {found[0]} and {found[1]} have landed: two deliveries of the same data. Nothing "
            "was loaded; remove the one that should not load (or move it aside) and re-run."
        )
    return found[0]


@dataclass(frozen=True)
class ReceivedFile:
    """A requested file as found in the landing folder, or with the problem that refused it at once."""

    request: LandingRequest
    landed: Path
    refused: list[Problem] = field(default_factory=list)


def receive(landing_zone: LandingZone, requests: Sequence[LandingRequest]) -> list[ReceivedFile]:
    """Find each requested file; raises if one has not landed. A symlink is refused (quarantined)."""
    received: list[ReceivedFile] = []
    for request in requests:
        landed = find_delivery(landing_zone, request.file_name)
        try:
            landing_zone.landed_file(landed.name)
        except UnsafeLandingPath as error:
            if not landed.is_symlink():
                raise
            received.append(ReceivedFile(request, landed, [Problem(str(error))]))
            continue
        received.append(ReceivedFile(request, landed))
    return received


def insert_parsed(conn: duckdb.DuckDBPyConnection, table: str, lineage: dict[str, str]) -> None:
    """Insert the file the ingest parsed and checked (the view ``landed``) into ``table`` by name,
    with its ``source_file`` and ``source_version``."""
    select = read_sql("raw", "landed_file")
    conn.execute(
        f"insert into {qualified_table_name(*table.split('.'))} by name {select}", lineage
    ).fetchall()


@dataclass
class LandedFiles(WarehouseLoad):
    """The received files of one raw table, as the output the IO manager writes (see the module).

    ``guard`` sees every checked file (with how it covers its month, when the table declares a
    ``coverage``) before anything is archived and returns metadata for the materialization; if it
    raises (the volume guard or the completeness rule holds the delivery) the copies are discarded,
    nothing is quarantined and nothing is written.
    """

    table: Table
    files: Sequence[ReceivedFile]
    landing_zone: LandingZone
    run_id: str | None
    guard: Callable[[list[Delivery]], Mapping[str, Any]] | None = None
    coverage: MonthCoverage | None = None
    notes: dict[str, tuple[str, ...]] = field(default_factory=dict)  # file -> what the check noted
    replaced_slice: str | None = field(default=None, init=False)  # the stored slice, if there was one

    def before_replace(self, connection: duckdb.DuckDBPyConnection, stored_slice: str) -> None:
        """Keep the rows this load replaces, to report what it changed (``changes.py``)."""
        if self.table.key:
            with labelled(table=self.table.qualified_name), phase("keep replaced rows"):
                changes.keep_replaced_rows(connection, stored_slice)
            self.replaced_slice = stored_slice

    def _what_changed(
        self, connection: duckdb.DuckDBPyConnection, deliveries: list[Delivery]
    ) -> dict[str, Any]:
        """The diff against the replaced version, as metadata (inside the transaction, rows inserted)."""
        months = sorted(
            MonthKey.from_date(delivery.month_start).label for delivery in deliveries if delivery.month_start
        )
        slice_label = months[0] if len(months) == 1 else f"{months[0]}…{months[-1]}" if months else ""
        files = ", ".join(delivery.file_name for delivery in deliveries)
        title = f"{self.table.qualified_name.replace('.', '/')} {slice_label}".strip() + f" ({files})"
        if self.replaced_slice is None:
            found = changes.Changes(
                tuple(self.table.key), sum(delivery.rows for delivery in deliveries), first_version=True
            )
        else:
            found = changes.what_changed(connection, self.table, f"({self.replaced_slice})")
            changes.drop_replaced_rows(connection)
        return found.as_metadata(title)

    @property
    def columns(self) -> Mapping[str, str]:
        return {column.name: column.type for column in self.table.columns}

    def _prepare(self, file: ReceivedFile, snapshots: list[archive.Snapshot]) -> framing.Framing:
        """Copy the file aside while hashing it and check its framing: no DuckDB, so this runs in a
        thread for the next file while DuckDB checks and inserts this one (both cores busy)."""
        with labelled(table=self.table.qualified_name, file=file.landed.name):
            with phase("snapshot (copy and hash)"):
                snapshots.append(archive.take_snapshot(file.landed, self.landing_zone.archive_root))
            return frame_landed_file(snapshots[-1].path, self.table)

    def _check_and_insert_file(
        self,
        conn: duckdb.DuckDBPyConnection,
        target: str,
        file: ReceivedFile,
        prepared: tuple[archive.Snapshot, framing.Framing],
        rejections: list[Rejection],
    ) -> Delivery | None:
        """Check one prepared file and insert it unless a file was rejected; None if this one is."""
        request, (snapshot, framed) = file.request, prepared
        lineage = {
            "source_file": file.landed.name,
            "source_version": snapshot.sha256[: archive.VERSION_DIGITS],
        }
        inserted = None
        if (
            not rejections and not framed.fatal
        ):  # after a rejection nothing commits: the rest are only checked
            inserted = insert_if_sound(
                conn, target, self.table, snapshot.path, request.month_start, framed, lineage
            )
        if inserted is not None:
            with phase("key values"):
                inspection = Inspection([], inserted, keys.key_values(conn, self.table), tuple(framed.notes))
        else:
            inspection = inspect_landed_file(
                snapshot.path, self.table, request.month_start, conn=conn, framed=framed
            )
            if inspection.problems:
                rejections.append(
                    reject(file.landed, snapshot, inspection.problems, self.landing_zone, self.run_id)
                )
                return None
            if not rejections:
                with phase("insert"):
                    insert_parsed(conn, target, lineage)
        if inspection.notes:
            self.notes[file.landed.name] = inspection.notes
        covered = None
        if self.coverage is not None and request.month_start is not None:
            with phase("coverage"):
                covered = check_coverage(
                    conn, self.table, self.coverage, file.landed.name, request.month_start
                )
        return Delivery(
            request.table, file.landed.name, request.month_start, inspection.rows, inspection.keys, covered
        )

    def _check_and_insert(
        self, conn: duckdb.DuckDBPyConnection, target: str, snapshots: list[archive.Snapshot]
    ) -> list[Delivery]:
        """Each file in order; a thread prepares the files ahead (``_prepare``), in the same order,
        appending each copy to ``snapshots`` so the caller discards or archives every one."""
        rejections: list[Rejection] = []
        deliveries: list[Delivery] = []
        taken: list[archive.Snapshot] = []
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="landing-prepare")
        try:
            ahead: list[Future[framing.Framing] | None] = [
                None if file.refused else pool.submit(self._prepare, file, taken) for file in self.files
            ]
            for file, preparing in zip(self.files, ahead, strict=True):
                if preparing is None:
                    rejections.append(reject(file.landed, None, file.refused, self.landing_zone, self.run_id))
                    continue
                framed = preparing.result()  # first: the copy is in ``taken`` once it returns
                prepared = (taken[len(snapshots)], framed)
                snapshots.append(prepared[0])
                with labelled(table=self.table.qualified_name, file=file.landed.name):
                    delivery = self._check_and_insert_file(conn, target, file, prepared, rejections)
                if delivery is not None:
                    deliveries.append(delivery)
        finally:  # copies taken ahead of a failure are handed over too, to be discarded
            pool.shutdown(wait=True, cancel_futures=True)
            snapshots.extend(taken[len(snapshots) :])
        conn.execute("drop view if exists landed").fetchall()
        conn.execute("drop table if exists landed_text").fetchall()
        if rejections:
            raise RejectedLandingFiles(rejections)
        return deliveries

    def insert(self, connection: duckdb.DuckDBPyConnection, table: str) -> Mapping[str, Any]:
        snapshots: list[archive.Snapshot] = []
        try:
            deliveries = self._check_and_insert(connection, table, snapshots)
            with labelled(table=self.table.qualified_name):
                with phase("volume guard"):
                    guarded = self.guard(deliveries) if self.guard is not None else {}
                with phase("what changed"):
                    changed = self._what_changed(connection, deliveries) if self.table.key else {}
        except BaseException:
            for snapshot in snapshots:  # the private copies; the landing files are untouched
                archive.discard(snapshot)
            raise
        with labelled(table=self.table.qualified_name), phase("archive"):
            archived = [
                archive.keep(snapshot, self.landing_zone.archive_root, self.run_id) for snapshot in snapshots
            ]
        source_files = [
            {"file": file.path.name, "sha256": file.sha256, "archived_copy": str(file.path)}
            | ({"noted": list(self.notes[file.path.name])} if file.path.name in self.notes else {})
            for file in archived
        ]
        return {"source_files": source_files, **guarded, **changed}
