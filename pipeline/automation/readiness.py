"""When a landing file is ready to load, and when one that looks incomplete is given up on.

A file is **ready** when it is complete — not empty, ending with a line break (a ``.gz`` file: a
whole gzip stream whose text ends with one) — and has not changed for the settle interval
(its modification time, which every write moves, is at least that old). A file that looks
**incomplete** (empty, or cut mid-line: a writer that paused, or crashed) is waited for, never
rejected; only once it has not changed for the incomplete limit is it **overdue**: the landing
sensor tells the operator and then quarantines it.

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
import time
import zlib
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from pipeline.files import BLOCK_BYTES, sha256_of

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
    INCOMPLETE = "incomplete"  # empty or cut mid-line: waited for
    OVERDUE = "overdue"  # incomplete and unchanged for the incomplete limit


@dataclass(frozen=True)
class Seen:
    """What the sensor learnt about one version of a file; kept in its cursor so that an unchanged
    file is neither re-read nor re-hashed. A version is its size, modification time and inode."""

    size: int
    mtime_ns: int
    inode: int
    complete: bool
    sha256: str | None = None

    def same_version(self, stat: os.stat_result) -> bool:
        return (self.size, self.mtime_ns, self.inode) == (stat.st_size, stat.st_mtime_ns, stat.st_ino)

    def to_json(self) -> list:
        return [self.size, self.mtime_ns, self.inode, self.complete, self.sha256]

    @classmethod
    def from_json(cls, value: list) -> Seen:
        return cls(*value)


def _gzip_text_complete(path: Path) -> bool:
    """A whole gzip stream (every member ended) whose decompressed text ends with a line break.

    Bytes that are not gzip at all count as complete: they are not being written, and the load's
    validation rejects them with the reason.
    """
    decompressor = zlib.decompressobj(zlib.MAX_WBITS | 32)
    last = b""
    try:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(BLOCK_BYTES), b""):
                while block:
                    text = decompressor.decompress(block)
                    last = text[-1:] or last
                    if not decompressor.eof:
                        break
                    block = decompressor.unused_data
                    if block:
                        decompressor = zlib.decompressobj(zlib.MAX_WBITS | 32)
    except zlib.error:
        return True
    return decompressor.eof and last == b"\n"


def looks_complete(path: Path) -> bool:
    """Not empty and ending with a line break (for ``.gz``: its decompressed text)."""
    with open(path, "rb") as handle:
        size = handle.seek(0, os.SEEK_END)
        if size == 0:
            return False
        if path.name.endswith(GZIP_SUFFIX):
            return _gzip_text_complete(path)
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) == b"\n"


def observe(
    path: Path, stat: os.stat_result, previous: Seen | None, settings: ReadinessSettings, now: float
) -> tuple[State, Seen]:
    """The file's state now, and what to remember of this version (reused while it is unchanged)."""
    if previous is not None and previous.same_version(stat):
        seen = previous
    else:
        seen = Seen(stat.st_size, stat.st_mtime_ns, stat.st_ino, looks_complete(path))
        if not seen.same_version(os.stat(path)):  # it changed while we looked: look again next time
            return State.SETTLING, Seen(stat.st_size, stat.st_mtime_ns, stat.st_ino, False)
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
    return Seen(seen.size, seen.mtime_ns, seen.inode, seen.complete, digest)


def now() -> float:
    return time.time()
