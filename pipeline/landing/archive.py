"""The archive: every landed file version accepted for loading, kept byte for byte for audit.

A correction — the same month dropped again with different content — replaces the month in the
warehouse in one transaction; the version it replaced stays here. Layout:

    <archive>/<file name>/<sha256[:16]>/<file name>     the bytes as they landed
    <archive>/<file name>/<sha256[:16]>/manifest.json   SHA-256, size, original path, first run, time

The raw assets load from the archived copy, not the landing file: what was validated, what is kept
and what is loaded are the same bytes even if upstream overwrites the landing file meanwhile.
Identical re-deliveries share one entry. ``archived_versions`` lists a file's versions oldest
first; the last is the one the warehouse holds after a successful load. A run killed while it
validates may leave its private copy under ``.incoming/``: only a copy, safe to remove.

A loaded file that a correction under the other name replaces (``readings_2013-03.csv`` loaded,
``readings_2013-03.csv.gz`` arriving) is taken out of the landing folder by ``retire``: into its
entry here, where its load already put the same bytes, so nothing is lost.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from pipeline.landing.quarantine import FileChangedWhileMoving, fingerprint, move_if_unchanged

INCOMING_DIR = ".incoming"
MANIFEST_NAME = "manifest.json"
VERSION_DIGITS = 16
# A file that changes while it is copied is copied again after a short pause, a few times.
SNAPSHOT_ATTEMPTS = 3
SNAPSHOT_RETRY_SECONDS = 1.0


@dataclass(frozen=True)
class Snapshot:
    """A private copy of a landing file, taken before it is validated."""

    path: Path
    original_path: Path
    sha256: str
    size_bytes: int

    @property
    def name(self) -> str:
        return self.original_path.name


@dataclass(frozen=True)
class ArchivedFile:
    path: Path
    sha256: str
    size_bytes: int
    original_path: str
    archived_at: datetime
    run_id: str | None


def take_snapshot(landed: Path, archive_root: Path) -> Snapshot:
    """Copy ``landed`` under ``<archive>/.incoming`` while hashing it.

    The copy is of one version: if the file is written to while it is copied, the copy is thrown
    away and taken again (up to SNAPSHOT_ATTEMPTS times), then FileChangedWhileMoving. The landing
    file itself is only read.
    """
    incoming = archive_root / INCOMING_DIR
    incoming.mkdir(parents=True, exist_ok=True)
    for attempt in range(1, SNAPSHOT_ATTEMPTS + 1):
        copy = incoming / f"{uuid.uuid4().hex}_{landed.name}"
        digest = hashlib.sha256()
        size = 0
        with open(landed, "rb") as reader, open(copy, "xb") as writer:
            before = os.fstat(reader.fileno())
            for block in iter(lambda: reader.read(1 << 20), b""):
                digest.update(block)
                size += len(block)
                writer.write(block)
            after = os.fstat(reader.fileno())
        if (
            (before.st_size, before.st_mtime_ns)
            == (after.st_size, after.st_mtime_ns)
            == (
                size,
                os.stat(landed).st_mtime_ns,
            )
        ):
            return Snapshot(copy, landed, digest.hexdigest(), size)
        copy.unlink()
        if attempt < SNAPSHOT_ATTEMPTS:
            time.sleep(SNAPSHOT_RETRY_SECONDS)
    raise FileChangedWhileMoving(
        f"{landed} kept changing while it was copied ({SNAPSHOT_ATTEMPTS} attempts): it is still being "
        "written. It was left in place; it loads once it is complete."
    )


def discard(snapshot: Snapshot) -> None:
    """Remove the private copy; the original it was taken from is untouched."""
    snapshot.path.unlink(missing_ok=True)


def _create_exclusively(target: Path, content: bytes) -> None:
    partial = target.with_name(f".{uuid.uuid4().hex}.part")
    partial.write_bytes(content)
    try:
        os.link(partial, target)
    except FileExistsError:
        pass  # another run archived the same version first
    finally:
        partial.unlink()


def keep(snapshot: Snapshot, archive_root: Path, run_id: str | None) -> ArchivedFile:
    """Move the snapshot into the archive (once per distinct content) and return its entry."""
    version_dir = archive_root / snapshot.name / snapshot.sha256[:VERSION_DIGITS]
    version_dir.mkdir(parents=True, exist_ok=True)
    target = version_dir / snapshot.name
    try:
        os.link(snapshot.path, target)
    except FileExistsError:
        pass  # the same bytes were archived before
    finally:
        discard(snapshot)
    manifest = {
        "file": snapshot.name,
        "sha256": snapshot.sha256,
        "size_bytes": snapshot.size_bytes,
        "original_path": str(snapshot.original_path),
        "archived_at": datetime.now(timezone.utc).isoformat(),
        "run_id": run_id,
    }
    _create_exclusively(version_dir / MANIFEST_NAME, (json.dumps(manifest, indent=2) + "\n").encode())
    return _read_entry(version_dir / MANIFEST_NAME)


def _read_entry(manifest_path: Path) -> ArchivedFile:
    manifest = json.loads(manifest_path.read_text())
    return ArchivedFile(
        path=manifest_path.parent / manifest["file"],
        sha256=manifest["sha256"],
        size_bytes=manifest["size_bytes"],
        original_path=manifest["original_path"],
        archived_at=datetime.fromisoformat(manifest["archived_at"]),
        run_id=manifest["run_id"],
    )


def archived_copy(archive_root: Path, name: str, version: str) -> Path:
    """The archived bytes of ``name`` whose version (SHA-256 prefix) the raw rows record."""
    return archive_root / name / version / name


def archived_versions(archive_root: Path, name: str) -> list[ArchivedFile]:
    """Every archived version of the landing file ``name``, oldest first."""
    entries = [_read_entry(manifest) for manifest in (archive_root / name).glob(f"*/{MANIFEST_NAME}")]
    return sorted(entries, key=lambda entry: entry.archived_at)


def retire(landed: Path, archive_root: Path, sha256: str) -> ArchivedFile:
    """Take ``landed`` — a loaded version a newer delivery replaces — out of the landing folder into
    its archive entry, if its bytes still hash to ``sha256``; FileChangedWhileMoving (and the file
    stays) otherwise. Its load archived the same bytes already: then the landing name just goes."""
    incoming = archive_root / INCOMING_DIR
    incoming.mkdir(parents=True, exist_ok=True)
    moved = incoming / f"{uuid.uuid4().hex}_{landed.name}"
    move_if_unchanged(landed, moved, fingerprint(os.stat(landed)), sha256)
    entry = archive_root / landed.name / sha256[:VERSION_DIGITS] / MANIFEST_NAME
    if entry.exists() and _read_entry(entry).sha256 == sha256:
        moved.unlink()
        return _read_entry(entry)
    return keep(Snapshot(moved, landed, sha256, moved.stat().st_size), archive_root, run_id=None)
