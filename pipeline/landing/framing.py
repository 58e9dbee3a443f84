"""A landed file's framing, before any value is read: compression, line endings, blank lines, header.

Read in one streaming pass over the bytes (decompressed for a ``.csv.gz`` delivery), so a file of
any size costs one read:

- not empty;
- compressed exactly when its name says so: gzip bytes under a ``.csv`` name are refused as
  compressed (and zip, zstd or bzip2 ones the same way), and a ``.csv.gz`` file must be one whole
  gzip stream (a cut-off stream is a truncated file);
- it ends with a whole record (pipeline/landing/ending.py): a last line with a line ending, or
  without one when its record has as many fields as the header (noted); a record cut off is a
  truncated or half-written file;
- no blank lines between records: an empty line and one holding only spaces or tabs are both
  refused (DuckDB would skip the first silently and reject the second: here they are treated
  alike, and a file holds exactly one record per line). Blank lines after the last record are
  accepted and noted. They are looked for (``blank_lines``, a second pass) only when the parse
  finds fewer records than lines or a rejected line: a sound file costs one pass;
- a UTF-8 header naming exactly the expected columns, in order.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.landing import ending
from pipeline.landing.compression import compression_mismatch, open_text_bytes
from pipeline.landing.quarantine import Problem

BLOCK_BYTES = 1 << 20
MAX_BLANK_LINES_REPORTED = 10
# A line of nothing but whitespace, as the line ending before it and the one that closes it.
_BLANK_LINE = re.compile(rb"\n(?=[ \t\r\f\v]*\n)")


@dataclass
class Framing:
    """What one pass over the bytes found: problems, the lines of the text and how it ends.

    ``fatal`` when the file cannot be parsed at all: nothing past these problems is worth reading.
    ``record_lines`` counts the lines up to the last record (the header included), without the
    blank lines after it; ``notes`` says what was accepted that a reader should know.
    """

    problems: list[Problem] = field(default_factory=list)
    line_endings: int = 0
    fatal: bool = False
    end: ending.Ending | None = None
    notes: list[str] = field(default_factory=list)

    def fail(self, problem: Problem) -> Framing:
        self.problems, self.fatal = [problem], True
        return self

    @property
    def lines(self) -> int:
        return self.line_endings + (0 if self.end is None or self.end.final_line_break else 1)

    @property
    def record_lines(self) -> int:
        return self.lines - (self.end.trailing_blank_lines if self.end else 0)


def _scan(path: Path, framing: Framing, *, blank_lines_before: int | None = None) -> tuple[bytes, bytes, int]:
    """Count line endings in one pass, and find the blank lines among the first
    ``blank_lines_before`` lines when it is given; returns the first line, the last bytes (at most
    ``ending.TAIL_BYTES``) and the length of the text."""
    blank_lines: list[int] = []
    blank_count = 0
    carry = b"\n"  # as if a line ended just before the file: a blank first line is found too
    lines_before_carry = -1
    first_line, tail, text_bytes = None, b"", 0
    with open_text_bytes(path) as text:
        for block in iter(lambda: text.read(BLOCK_BYTES), b""):
            text_bytes += len(block)
            if first_line is None:
                first_line = block.split(b"\n", 1)[0]
            tail = (
                block[-ending.TAIL_BYTES :]
                if len(block) >= ending.TAIL_BYTES
                else (tail + block)[-ending.TAIL_BYTES :]
            )
            framing.line_endings += block.count(b"\n")
            if blank_lines_before is None:
                continue
            data = carry + block
            cut = data.rfind(b"\n")
            for match in _BLANK_LINE.finditer(data, 0, cut + 1):
                # the match is the line ending before the blank line
                line = lines_before_carry + data.count(b"\n", 0, match.start()) + 2
                if line > blank_lines_before:
                    break
                blank_count += 1
                if len(blank_lines) < MAX_BLANK_LINES_REPORTED:
                    blank_lines.append(line)
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
    return first_line or b"", tail, text_bytes


def _note_ending(framing: Framing) -> None:
    end = framing.end
    if not end.terminated:
        framing.notes.append(
            f"line {framing.lines}, the last, has no line break; its record is whole "
            f"({end.last_line_fields} fields)"
        )
    if end.trailing_blank_lines:
        first, last = framing.record_lines + 1, framing.lines
        where = f"line {first}" if first == last else f"lines {first}–{last}"
        framing.notes.append(
            f"{end.trailing_blank_lines} blank line(s) after the last record ({where}) ignored"
        )


def check_framing(path: Path) -> Framing:
    """Everything wrong with the file's bytes before its values are read (see the module), but
    blank lines: only line endings are counted (a quarter of the cost of finding them), and the
    caller looks for blank lines (``blank_lines``) once the parse says a line is off."""
    framing = Framing()
    if path.stat().st_size == 0:
        return framing.fail(Problem("the file is empty (0 bytes)"))
    mismatch = compression_mismatch(path)
    if mismatch is not None:
        return framing.fail(Problem(mismatch, line=1))
    try:
        first_line, tail, text_bytes = _scan(path, framing)
    except (EOFError, gzip.BadGzipFile, zlib.error) as error:
        return framing.fail(
            Problem(
                "the gzip stream ends early: the file is truncated or was still being written"
                if isinstance(error, EOFError)
                else f"the gzip stream is corrupt ({error})",
                line=framing.line_endings + 1,
            )
        )
    if not tail:
        return framing.fail(Problem("the file is empty once decompressed"))
    framing.end = ending.ending_of(first_line, tail, tail_is_whole_text=text_bytes <= ending.TAIL_BYTES)
    if not framing.end.complete:
        return framing.fail(
            Problem(
                f"{framing.end.describe_cut()}: the record is cut off; the file is truncated or "
                "was still being written",
                line=framing.lines,
            )
        )
    _note_ending(framing)
    return framing


def blank_lines(path: Path, record_lines: int | None = None) -> list[Problem]:
    """The blank lines of a file whose framing is otherwise sound (see ``check_framing``), among
    its first ``record_lines`` lines when given: blank lines after the last record are accepted."""
    framing = Framing()
    _scan(path, framing, blank_lines_before=record_lines if record_lines is not None else 1 << 62)
    return framing.problems


def cut_last_record(framed: Framing, problems: Sequence[Problem]) -> list[Problem]:
    """A last line without a line break whose values are refused is most likely cut inside its last
    field (every field is there, the last one short): say so beside the value's problem."""
    if framed.end is None or framed.end.terminated:
        return []
    last = framed.record_lines
    if not any(problem.line == last for problem in problems):
        return []
    return [
        Problem(
            "the last line has no line break and a value it holds is refused: the record may be cut "
            "inside its last field; the file is truncated or was still being written",
            line=last,
        )
    ]


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
