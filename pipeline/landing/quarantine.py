"""Quarantine: a rejected landing file is moved aside, beside a note of why. Nothing is deleted.

A file lands in ``<quarantine>/<UTC time>_<file name>`` next to ``<same name>.reason.json``, which
records the reason, the problems found (line and column where they apply), the run, the original
path, the time, the size and the SHA-256 of the bytes. Moving the file out of the landing folder
stops sensors from picking it up again; upstream fixes it by dropping a corrected file under the
original name. Names never collide: a second rejection of the same file gets its own entry.

A move never loses bytes: a file written to while it is hashed, copied or moved is left (or put
back) under its landing name and ``FileChangedWhileMoving`` is raised, so the note's size and hash
are always those of the quarantined bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from pipeline.files import BLOCK_BYTES, sha256_of, write_atomically

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


class FileChangedWhileMoving(RuntimeError):
    """The file was written to while it was being moved or copied: it was left where it was."""


def fingerprint(stat: os.stat_result) -> tuple[int, int, int]:
    return stat.st_size, stat.st_mtime_ns, stat.st_ino


def _changed(path: Path, expected: tuple[int, int, int]) -> str | None:
    """Why ``path`` no longer has the ``expected`` size, modification time and inode (None if it has)."""
    try:
        now = fingerprint(os.stat(path))
    except FileNotFoundError:
        return f"{path} disappeared"
    if now == expected:
        return None
    return f"{path} changed ({expected[0]} -> {now[0]} bytes) while it was being moved"


def _copy_verified(source: Path, destination: Path, expected: tuple[int, int, int], sha256: str) -> None:
    """Copy ``source`` to the new file ``destination``; FileChangedWhileMoving unless the copy holds
    exactly the bytes hashed before (and the source stayed as it was)."""
    digest = hashlib.sha256()
    with open(source, "rb") as reader, open(destination, "xb") as writer:
        for block in iter(lambda: reader.read(BLOCK_BYTES), b""):
            digest.update(block)
            writer.write(block)
        writer.flush()
        os.fsync(writer.fileno())
        changed = _changed(source, expected) or (
            None if digest.hexdigest() == sha256 else f"{source} changed while it was being copied"
        )
    if changed:
        destination.unlink()
        raise FileChangedWhileMoving(changed)


def move_if_unchanged(source: Path, destination: Path, expected: tuple[int, int, int], sha256: str) -> None:
    """Move ``source`` to ``destination`` (which must not exist) only if it stays as it was.

    Same file system: a hard link, then the landing name is removed; the file is checked before
    and after the name goes, and put back under its name if a writer touched it meanwhile. Across
    file systems: a copy whose hash is checked, then the original is removed only if unchanged.
    Either way a file that changed stays (or is put back) where it was, with its bytes, and
    FileChangedWhileMoving is raised; nothing is lost. (A write in the microseconds between the
    last check and the unlink cannot be told apart; the landing sensor only moves files that have
    not changed for a long time.)
    """
    try:
        os.link(source, destination, follow_symlinks=False)
        linked = True
    except OSError as error:
        if isinstance(error, FileExistsError):
            raise
        _copy_verified(source, destination, expected, sha256)  # another file system
        linked = False
    changed = _changed(destination if linked else source, expected)
    if changed is None and linked and sha256_of(destination) != sha256:
        changed = f"{source} changed while it was being moved"
    if changed:
        destination.unlink()
        raise FileChangedWhileMoving(changed)
    os.unlink(source)
    if linked and (changed := _changed(destination, expected)):
        # Written between the check and the unlink: the landing name comes back, with every byte.
        try:
            os.link(destination, source)
        except FileExistsError:
            # Upstream has already dropped a new file under the name: both are kept, the new one
            # in the landing folder, the grown one here (its note gives the size it had).
            return
        destination.unlink()
        raise FileChangedWhileMoving(changed)


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
    ``source``). The note's size and SHA-256 are those of the bytes moved: a file written to while
    it is hashed or moved stays where it is (FileChangedWhileMoving), and so does its note.
    """
    quarantine_root.mkdir(parents=True, exist_ok=True)
    now = datetime.now(timezone.utc)
    name = (original_path or source).name
    is_link = source.is_symlink()
    before = fingerprint(os.lstat(source))
    sha256 = None if is_link else sha256_of(source)
    if not is_link and (changed := _changed(source, before)):
        raise FileChangedWhileMoving(changed)
    destination, note = _reserve_note(quarantine_root, name, now.strftime("%Y%m%dT%H%M%S.%fZ"))
    content = {
        "file": name,
        "original_path": str(original_path or source),
        "quarantined_path": str(destination),
        "reason": reason,
        "problems": [asdict(problem) for problem in problems],
        "run_id": run_id,
        "quarantined_at": now.isoformat(),
        "size_bytes": None if is_link else before[0],
        "sha256": sha256,
        "symlink_target": os.readlink(source) if is_link else None,
    }
    write_atomically(note, [(json.dumps(content, indent=2) + "\n").encode()])
    try:
        if is_link:
            _move_link(source, destination)
        else:
            move_if_unchanged(source, destination, before, sha256)
    except BaseException:
        note.unlink(missing_ok=True)
        raise
    return QuarantinedFile(destination, note)


def _move_link(source: Path, destination: Path) -> None:
    """A symbolic link moves as the link itself; its target is never read or touched."""
    try:
        os.link(source, destination, follow_symlinks=False)
    except OSError as error:
        if isinstance(error, FileExistsError):
            raise
        os.symlink(os.readlink(source), destination)
    os.unlink(source)
