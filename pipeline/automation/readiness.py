"""When a landing file is ready to load, and when one that looks incomplete is given up on.

A file is **ready** when it is complete and has not changed for the settle interval (its
modification time, which every write moves, is at least that old). Complete means not empty and
ending with a whole record (pipeline/landing/ending.py; for a ``.gz`` file, of a whole gzip stream's
text): a last line with a line break, or without one when its record has as many fields as the
header and its values pass its table's contract (an upload paused inside the last field has every
field, and a value cut short). Blank lines after the last record do not matter. A file that looks **incomplete** (empty,
or cut mid-record: a writer that paused, or crashed) is waited for, never rejected; only once it
has not changed for the incomplete limit is it **overdue**: the landing sensor tells the operator
and then quarantines it. A file whose bytes are compressed under a plain ``.csv`` name (gzip, zip,
zstd, bzip2), or plain under a ``.csv.gz`` name, is **mislabelled** at once: it will not load
whatever else arrives, and the fix is a rename (the sensor tells the operator and leaves it).

Both intervals are read from the environment at each evaluation (so a test or an operator can
change them without a code change):

- ``LANDING_SETTLE_SECONDS`` (default 2): guards against a writer that pauses exactly at a line
  break. Deliveries by rename (the convention: write ``<name>.part``, rename when complete) are
  complete whatever the interval. 2 s costs at most one extra sensor tick (5 s) after a drop and
  keeps a dropped correction inside the 15 s goal; raise it for writers that stall at line breaks
  (a file loaded early is not lost: when the rest arrives, the new content reloads the month).
- ``LANDING_INCOMPLETE_LIMIT_SECONDS`` (default 3600): an upload stalled for an hour is not coming
  back by itself; until then nothing is moved while someone may still be writing.

Only the file system's clock is compared with the modification time; on a network file system
whose clock drifts, raise the settle interval by the drift.
"""

from __future__ import annotations

import os
import tempfile
import time
import zlib
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from pipeline.files import BLOCK_BYTES, sha256_of
from pipeline.landing.compression import compression_mismatch
from pipeline.landing.ending import TAIL_BYTES, Ending, ending_of
from pipeline.landing.ingest import validate_landed_file
from pipeline.landing.landed_tables import LandedTables

SETTLE_SECONDS_ENV = "LANDING_SETTLE_SECONDS"
INCOMPLETE_LIMIT_SECONDS_ENV = "LANDING_INCOMPLETE_LIMIT_SECONDS"
DEFAULT_SETTLE_SECONDS = 2.0
DEFAULT_INCOMPLETE_LIMIT_SECONDS = 3600.0
GZIP_SUFFIX = ".gz"


def _seconds(variable: str, default: float) -> float:
    value = os.environ.get(variable)
    if not value:
        return default
    try:
        seconds = float(value)
    except ValueError as error:
        raise ValueError(f"{variable}={value!r} is not a number of seconds") from error
    if seconds < 0:
        raise ValueError(f"{variable}={value!r} is negative")
    return seconds


@dataclass(frozen=True)
class ReadinessSettings:
    settle_seconds: float = DEFAULT_SETTLE_SECONDS
    incomplete_limit_seconds: float = DEFAULT_INCOMPLETE_LIMIT_SECONDS

    @classmethod
    def from_environment(cls) -> ReadinessSettings:
        return cls(
            _seconds(SETTLE_SECONDS_ENV, DEFAULT_SETTLE_SECONDS),
            _seconds(INCOMPLETE_LIMIT_SECONDS_ENV, DEFAULT_INCOMPLETE_LIMIT_SECONDS),
        )


class State(Enum):
    READY = "ready"
    SETTLING = "settling"  # complete-looking, but changed within the settle interval
    INCOMPLETE = "incomplete"  # empty or cut mid-record: waited for
    OVERDUE = "overdue"  # incomplete and unchanged for the incomplete limit
    MISLABELLED = "mislabelled"  # compressed bytes under a plain name, or plain under .gz: told at once


@dataclass(frozen=True)
class Seen:
    """What the sensor learnt about one version of a file; kept in its cursor so that an unchanged
    file is neither re-read nor re-hashed. A version is its size, modification time and inode.
    ``mislabelled`` says what is wrong with a file compressed otherwise than its name says."""

    size: int
    mtime_ns: int
    inode: int
    complete: bool
    sha256: str | None = None
    mislabelled: str | None = None

    def same_version(self, stat: os.stat_result) -> bool:
        return (self.size, self.mtime_ns, self.inode) == (stat.st_size, stat.st_mtime_ns, stat.st_ino)

    def to_json(self) -> list:
        return [self.size, self.mtime_ns, self.inode, self.complete, self.sha256, self.mislabelled]

    @classmethod
    def from_json(cls, value: list) -> Seen:
        if len(value) != 6:  # an older cursor: rebuilt rather than read wrongly
            raise ValueError(f"a file version of {len(value)} fields")
        return cls(*value)


def _gzip_text_complete(path: Path, landed: LandedTables) -> bool:
    """A whole gzip stream (every member ended) whose decompressed text ends with a whole record.

    Bytes that are not gzip at all count as complete: they are not being written, and the load's
    validation rejects them with the reason.
    """
    decompressor = zlib.decompressobj(zlib.MAX_WBITS | 32)
    head, tail, text_bytes = b"", b"", 0
    try:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(BLOCK_BYTES), b""):
                while block:
                    text = decompressor.decompress(block)
                    text_bytes += len(text)
                    tail = text[-TAIL_BYTES:] if len(text) >= TAIL_BYTES else (tail + text)[-TAIL_BYTES:]
                    if len(head) < TAIL_BYTES:
                        head += text[: TAIL_BYTES - len(head)]
                    if not decompressor.eof:
                        break
                    block = decompressor.unused_data
                    if block:
                        decompressor = zlib.decompressobj(zlib.MAX_WBITS | 32)
    except zlib.error:
        return True
    if not decompressor.eof or text_bytes == 0:
        return False
    first_line = head.split(b"\n", 1)[0]
    end = ending_of(first_line, tail, tail_is_whole_text=text_bytes <= TAIL_BYTES)
    return _whole(path, first_line, end, landed)


def _last_record_passes(name: str, first_line: bytes, last_line: bytes, landed: LandedTables) -> bool:
    """The last record, without its line break, checked as a one-row file of its table: no value of
    it refused (a header that is wrong is the load's to refuse). Only for landing file names."""
    plain = name.removesuffix(GZIP_SUFFIX)
    fed = landed.table_of_file(plain)
    if fed is None:
        return True
    table, month = fed
    with tempfile.TemporaryDirectory() as folder:
        record = Path(folder) / plain
        record.write_bytes(first_line.rstrip(b"\r\n") + b"\n" + last_line + b"\n")
        problems = validate_landed_file(record, table, month.first_day if month else None)
    return not any(problem.line == 2 for problem in problems)


def _whole(path: Path, first_line: bytes, end: Ending, landed: LandedTables) -> bool:
    if not end.complete:
        return False
    return end.terminated or _last_record_passes(path.name, first_line, end.last_line, landed)


def looks_complete(path: Path, landed: LandedTables) -> bool:
    """Not empty and ending with a whole record (for ``.gz``: its decompressed text); see the module."""
    with open(path, "rb") as handle:
        size = handle.seek(0, os.SEEK_END)
        if size == 0:
            return False
        if path.name.endswith(GZIP_SUFFIX):
            return _gzip_text_complete(path, landed)
        handle.seek(max(0, size - TAIL_BYTES))
        tail = handle.read()
        if tail.endswith(b"\n"):
            return True
        handle.seek(0)
        first_line = handle.readline(TAIL_BYTES)
        end = ending_of(first_line, tail, tail_is_whole_text=size <= TAIL_BYTES)
        return _whole(path, first_line, end, landed)


def observe(
    path: Path,
    stat: os.stat_result,
    previous: Seen | None,
    settings: ReadinessSettings,
    now: float,
    landed: LandedTables,
) -> tuple[State, Seen]:
    """The file's state now, and what to remember of this version (reused while it is unchanged)."""
    if previous is not None and previous.same_version(stat):
        seen = previous
    else:
        mislabelled = compression_mismatch(path)
        complete = mislabelled is None and looks_complete(path, landed)
        seen = Seen(stat.st_size, stat.st_mtime_ns, stat.st_ino, complete, mislabelled=mislabelled)
        if not seen.same_version(os.stat(path)):  # it changed while we looked: look again next time
            return State.SETTLING, Seen(stat.st_size, stat.st_mtime_ns, stat.st_ino, False)
    if seen.mislabelled is not None:
        return State.MISLABELLED, seen
    unchanged_for = now - stat.st_mtime_ns / 1e9
    if not seen.complete:
        return (
            State.OVERDUE if unchanged_for >= settings.incomplete_limit_seconds else State.INCOMPLETE
        ), seen
    if unchanged_for < settings.settle_seconds:
        return State.SETTLING, seen
    return State.READY, seen


def identify(path: Path, seen: Seen) -> Seen | None:
    """``seen`` with the SHA-256 of the file's bytes; None if the file changed while it was hashed."""
    if seen.sha256 is not None:
        return seen
    digest = sha256_of(path)
    if not seen.same_version(os.stat(path)):
        return None
    return Seen(seen.size, seen.mtime_ns, seen.inode, seen.complete, digest, seen.mislabelled)


def now() -> float:
    return time.time()
