"""Compressed deliveries: ``<name>.csv.gz`` is gzip; bytes compressed otherwise than the name says are
told by their first bytes (magic numbers), with the fix.

The landing sensor tells such a file at once and leaves it in place (renaming it is the fix); a
load that meets one refuses it (pipeline/landing/framing.py).
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

GZIP_SUFFIX = ".gz"
# What compressed deliveries begin with; only gzip is accepted (named .csv.gz).
MAGIC_NUMBERS = {b"\x1f\x8b": "gzip", b"PK\x03\x04": "zip", b"\x28\xb5\x2f\xfd": "zstd", b"BZh": "bzip2"}


def is_compressed_delivery(path: Path) -> bool:
    return path.name.endswith(GZIP_SUFFIX)


@contextmanager
def open_text_bytes(path: Path) -> Iterator[io.BufferedIOBase]:
    """The delivered text's bytes: decompressed for a ``.csv.gz`` file."""
    with open(path, "rb") as raw:
        if is_compressed_delivery(path):
            with gzip.GzipFile(fileobj=raw) as text:
                yield text
        else:
            yield raw


def compression_mismatch(path: Path) -> str | None:
    """What is wrong when the bytes are compressed otherwise than the name says, with the fix;
    None when they agree (or the file is too short to tell)."""
    with open(path, "rb") as handle:
        start = handle.read(4)
    found = next((kind for magic, kind in MAGIC_NUMBERS.items() if start.startswith(magic)), None)
    if is_compressed_delivery(path):
        if found == "gzip" or len(start) < 2:
            return None
        plain = path.name.removesuffix(GZIP_SUFFIX)
        if found is None:
            return (
                "the name ends in .csv.gz but the bytes are not gzip-compressed (they are plain): "
                f"name it {plain}, or gzip it"
            )
        return (
            f"the name ends in .csv.gz but the bytes are not gzip-compressed (they are {found}): "
            f"only gzip is accepted; deliver it uncompressed as {plain}, or gzip-compressed"
        )
    if found is None:
        return None
    if found == "gzip":
        return f"the file is gzip-compressed but named .csv: name it {path.name}{GZIP_SUFFIX}"
    return (
        f"the file is {found}-compressed but named .csv: only gzip is accepted; deliver it "
        f"uncompressed, or gzip-compressed as {path.name}{GZIP_SUFFIX}"
    )
