"""File operations the landing zone relies on: content hashes and writes that appear whole."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

PARTIAL_SUFFIX = ".part"
BLOCK_BYTES = 1 << 20


def sha256_of(path: Path) -> str:
    """The SHA-256 of the file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(BLOCK_BYTES), b""):
            digest.update(block)
    return digest.hexdigest()


def write_atomically(target: Path, chunks: Iterable[bytes]) -> None:
    """Write ``chunks`` under ``<target>.part`` and rename it: readers see no file or all of it."""
    partial = target.with_name(target.name + PARTIAL_SUFFIX)
    with open(partial, "wb") as out:
        out.writelines(chunks)
    partial.replace(target)
