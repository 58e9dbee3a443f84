"""Quarantine: a rejected landing file is moved aside, beside a note of why. Nothing is deleted.

A file lands in ``<quarantine>/<UTC time>_<file name>`` next to ``<same name>.reason.json``, which
records the reason, the problems found (line and column where they apply), the run, the original
path, the time, the size and the SHA-256 of the bytes. Moving the file out of the landing folder
stops sensors from picking it up again; upstream fixes it by dropping a corrected file under the
original name. Names never collide: a second rejection of the same file gets its own entry.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from pipeline.files import sha256_of, write_atomically

NOTE_SUFFIX = ".reason.json"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file; ``line`` (1-based, header is line 1) and ``column`` if known."""

    message: str
    line: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        where = ", ".join(
            part
            for part in (
                f"line {self.line}" if self.line is not None else "",
                f"column {self.column}" if self.column else "",
            )
            if part
        )
        return f"{where}: {self.message}" if where else self.message


@dataclass(frozen=True)
class QuarantinedFile:
    path: Path
    note_path: Path


def _reserve_note(quarantine_root: Path, name: str, stamp: str) -> tuple[Path, Path]:
    """Claim a destination name by creating its note exclusively; returns (file, note) paths."""
    attempt = 0
    while True:
        prefix = stamp if attempt == 0 else f"{stamp}-{attempt}"
        destination = quarantine_root / f"{prefix}_{name}"
        note = destination.with_name(destination.name + NOTE_SUFFIX)
        attempt += 1
        if os.path.lexists(destination):
            continue
        try:
            with open(note, "x"):
                return destination, note
        except FileExistsError:
            continue


def _move_without_overwrite(source: Path, destination: Path) -> None:
    """Move ``source`` (a symlink moves as the link itself) to ``destination``, which must not exist."""
    try:
        os.link(source, destination, follow_symlinks=False)
    except OSError as error:
        if isinstance(error, FileExistsError):
            raise
        # Another file system, or hard links not allowed: copy, then remove the original.
        if source.is_symlink():
            os.symlink(os.readlink(source), destination)
        else:
            with open(source, "rb") as reader, open(destination, "xb") as writer:
                for block in iter(lambda: reader.read(1 << 20), b""):
                    writer.write(block)
                writer.flush()
                os.fsync(writer.fileno())
    os.unlink(source)


def quarantine(
    source: Path,
    quarantine_root: Path,
    *,
    reason: str,
    problems: Sequence[Problem] = (),
    run_id: str | None = None,
    original_path: Path | None = None,
) -> QuarantinedFile:
    """Move ``source`` into ``quarantine_root`` beside a note of ``reason`` and ``problems``.

    ``original_path`` is where the file was found when ``source`` is a copy of it (defaults to
    ``source``).
    """
    quarantine_root.mkdir(parents=True, exist_ok=True)
    now = datetime.now(timezone.utc)
    name = (original_path or source).name
    destination, note = _reserve_note(quarantine_root, name, now.strftime("%Y%m%dT%H%M%S.%fZ"))
    is_link = source.is_symlink()
    content = {
        "file": name,
        "original_path": str(original_path or source),
        "quarantined_path": str(destination),
        "reason": reason,
        "problems": [asdict(problem) for problem in problems],
        "run_id": run_id,
        "quarantined_at": now.isoformat(),
        "size_bytes": None if is_link else source.stat().st_size,
        "sha256": None if is_link else sha256_of(source),
        "symlink_target": os.readlink(source) if is_link else None,
    }
    write_atomically(note, [(json.dumps(content, indent=2) + "\n").encode()])
    _move_without_overwrite(source, destination)
    return QuarantinedFile(destination, note)

