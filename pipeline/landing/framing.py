"""A landed file's framing, before any value is read: compression, line endings, blank lines, header.

Read in one streaming pass over the bytes (decompressed for a ``.csv.gz`` delivery), so a file of
any size costs one read:

- not empty;
- compressed exactly when its name says so: gzip bytes under a ``.csv`` name are refused as
  compressed (and zip or zstd ones the same way), and a ``.csv.gz`` file must be one whole gzip
  stream (a cut-off stream is a truncated file);
- every line ends with a line ending (a truncated or half-written file does not);
- no blank lines: an empty line and one holding only spaces or tabs are both refused, wherever
  they are, trailing ones included (DuckDB would skip the first silently and reject the second:
  here they are treated alike, and a file holds exactly one record per line). They are looked
  for (``blank_lines``, a second pass) only when the parse finds fewer records than lines or a
  rejected line: a sound file costs one pass;
- a UTF-8 header naming exactly the expected columns, in order.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.landing.quarantine import Problem

GZIP_SUFFIX = ".gz"
BLOCK_BYTES = 1 << 20
MAX_BLANK_LINES_REPORTED = 10
# What other compressed deliveries begin with; only gzip is accepted (named .csv.gz).
MAGIC_NUMBERS = {b"\x1f\x8b": "gzip", b"PK\x03\x04": "zip", b"\x28\xb5\x2f\xfd": "zstd", b"BZh": "bzip2"}
# A line of nothing but whitespace, as the line ending before it and the one that closes it.
_BLANK_LINE = re.compile(rb"\n(?=[ \t\r\f\v]*\n)")


@dataclass
class Framing:
    """What one pass over the bytes found: problems, and the line endings of the text.

    ``fatal`` when the file cannot be parsed at all: nothing past these problems is worth reading.
    """

    problems: list[Problem] = field(default_factory=list)
    line_endings: int = 0
    fatal: bool = False

    def fail(self, problem: Problem) -> Framing:
        self.problems, self.fatal = [problem], True
        return self


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


def _compression_problem(path: Path) -> Problem | None:
    with open(path, "rb") as handle:
        start = handle.read(4)
    found = next((kind for magic, kind in MAGIC_NUMBERS.items() if start.startswith(magic)), None)
    if is_compressed_delivery(path):
        if found != "gzip":
            return Problem(
                f"the name ends in .csv.gz but the bytes are not gzip-compressed"
                f"{f' (they are {found})' if found else ''}: deliver it uncompressed as "
                f"{path.name.removesuffix(GZIP_SUFFIX)}, or gzip it",
                line=1,
            )
    elif found is not None:
        gz = (
            " under the name <name>.csv.gz"
            if found == "gzip"
            else " (only gzip is accepted, as <name>.csv.gz)"
        )
        return Problem(
            f"the file is {found}-compressed but named .csv: deliver it uncompressed, or compressed{gz}",
            line=1,
        )
    return None


def _scan(path: Path, framing: Framing, *, find_blank_lines: bool) -> bytes:
    """Count line endings (and find blank lines) in one pass; returns the last byte of the text."""
    blank_lines: list[int] = []
    blank_count = 0
    carry = b"\n"  # as if a line ended just before the file: a blank first line is found too
    lines_before_carry = -1
    last = b""
    with open_text_bytes(path) as text:
        for block in iter(lambda: text.read(BLOCK_BYTES), b""):
            last = block[-1:]
            framing.line_endings += block.count(b"\n")
            if not find_blank_lines:
                continue
            data = carry + block
            cut = data.rfind(b"\n")
            for match in _BLANK_LINE.finditer(data, 0, cut + 1):
                blank_count += 1
                if len(blank_lines) < MAX_BLANK_LINES_REPORTED:
                    # the match is the line ending before the blank line
                    blank_lines.append(lines_before_carry + data.count(b"\n", 0, match.start()) + 2)
            lines_before_carry += data.count(b"\n", 0, cut)
            carry = data[cut:]
    framing.problems.extend(
        Problem("the line is blank (empty or only whitespace); a file holds one record per line", line=line)
        for line in blank_lines
    )
    if blank_count > len(blank_lines):
        framing.problems.append(
            Problem(f"... and {blank_count - len(blank_lines)} more blank lines", line=blank_lines[-1])
        )
    return last


def check_framing(path: Path) -> Framing:
    """Everything wrong with the file's bytes before its values are read (see the module), but
    blank lines: only line endings are counted (a quarter of the cost of finding them), and the
    caller looks for blank lines (``blank_lines``) once the parse says a line is off."""
    framing = Framing()
    if path.stat().st_size == 0:
        return framing.fail(Problem("the file is empty (0 bytes)"))
    compression = _compression_problem(path)
    if compression is not None:
        return framing.fail(compression)
    try:
        last = _scan(path, framing, find_blank_lines=False)
    except (EOFError, gzip.BadGzipFile, zlib.error) as error:
        return framing.fail(
            Problem(
                "the gzip stream ends early: the file is truncated or was still being written"
                if isinstance(error, EOFError)
                else f"the gzip stream is corrupt ({error})",
                line=framing.line_endings + 1,
            )
        )
    if not last:
        return framing.fail(Problem("the file is empty once decompressed"))
    if last != b"\n":
        return framing.fail(
            Problem(
                "the last line has no line ending: the file is truncated or was still being written",
                line=framing.line_endings + 1,
            )
        )
    return framing


def blank_lines(path: Path) -> list[Problem]:
    """The blank lines of a file whose framing is otherwise sound (see ``check_framing``)."""
    framing = Framing()
    _scan(path, framing, find_blank_lines=True)
    return framing.problems


def check_header(path: Path, columns: Sequence[str]) -> list[Problem]:
    """The header names exactly ``columns``, in order; problems name line 1 and the column."""
    with open_text_bytes(path) as text:
        first_line = text.readline()
    try:
        decoded = first_line.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        return [
            Problem(
                f"the header is not valid UTF-8 (byte 0x{first_line[error.start]:02x} at "
                f"position {error.start + 1})",
                line=1,
            )
        ]
    header = next(csv.reader([decoded]), [])
    if header == list(columns):
        return []
    missing = [name for name in columns if name not in header]
    unexpected = [name for name in header if name not in columns]
    duplicated = sorted({name for name in header if header.count(name) > 1})
    if len(header) == len(columns) and len(missing) == len(unexpected) == 1:
        return [
            Problem(
                f"column {missing[0]!r} is named {unexpected[0]!r} in the header",
                line=1,
                column=missing[0],
            )
        ]
    parts = [
        f"missing columns {missing}" if missing else "",
        f"unexpected columns {unexpected}" if unexpected else "",
        f"duplicated columns {duplicated}" if duplicated else "",
    ]
    if not any(parts):
        parts = [f"the columns are out of order: expected {list(columns)}, found {header}"]
    return [
        Problem(
            "; ".join(part for part in parts if part),
            line=1,
            column=(missing or unexpected or duplicated or [None])[0],
        )
    ]


def multiline_records(path: Path, limit: int) -> list[Problem]:
    """Records whose quoted values hold line breaks (looked for only once counts say there are some)."""
    problems = []
    with open_text_bytes(path) as raw, io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as text:
        reader = csv.reader(text)
        header = next(reader, [])
        start = reader.line_num + 1
        for record in reader:
            if reader.line_num > start:
                broken = next(
                    (name for name, value in zip(header, record, strict=False) if "\n" in value), None
                )
                problems.append(
                    Problem(
                        f"a quoted value spans lines {start}–{reader.line_num}; a value may not "
                        "hold a line break",
                        line=start,
                        column=broken,
                    )
                )
                if len(problems) >= limit:
                    break
            start = reader.line_num + 1
    return problems
