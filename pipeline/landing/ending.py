"""How a landed file's text ends: its last record whole or cut off, and the blank lines after it.

Both the landing sensor (is the file complete, or still being written?) and the load's framing
(pipeline/landing/framing.py) read the end of a file through ``ending_of``:

- a last line **with** a line break ends a complete file, as it always did;
- a last line **without** one (exporters that leave the final break off) ends a complete file
  when its record has exactly as many fields as the header, no quoted value left open, and it is
  not the header itself. An upload cut mid-record has fewer fields (or an open quote) and is
  waited for. A cut *inside the last field* still has every field: the landing sensor also checks
  such a record against its table's contract (pipeline/automation/readiness.py) and waits while a
  value is refused, and a load refuses the value as a probable truncation
  (``framing.cut_last_record``);
- blank lines after the last record (empty or only whitespace — what many exports and editors
  write) are counted, not refused: the load notes them in the materialization's metadata. A blank
  line between records is still refused.

Only the first line and the last ``TAIL_BYTES`` of the text are read; a last line longer than that
counts as cut.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass

TAIL_BYTES = 1 << 16
WHITESPACE = b" \t\r\n\f\v"


@dataclass(frozen=True)
class Ending:
    """The end of a file's text. ``last_line_fields``/``header_fields`` are counted only for a last
    line without a line break (None: a quoted value left open, or a line longer than the tail)."""

    terminated: bool
    final_line_break: bool = True  # the text's very last line (a record's or a blank one) has its break
    trailing_blank_lines: int = 0
    last_line_fields: int | None = None
    header_fields: int | None = None
    header_only: bool = False
    last_line: bytes = b""  # the last record's line, when it has no line break

    @property
    def complete(self) -> bool:
        """Whole lines, or a last record with every field; never the header alone."""
        if self.terminated:
            return True
        return (
            not self.header_only
            and self.last_line_fields is not None
            and (self.last_line_fields == self.header_fields)
        )

    def describe_cut(self) -> str:
        """Why an unterminated last line counts as cut off (for messages)."""
        if self.header_only:
            return "the file holds only a header, without a line break"
        if self.last_line_fields is None:
            return "the last line has no line break and a quoted value left open"
        return f"the last line has no line break and {self.last_line_fields} of {self.header_fields} fields"


def count_fields(line: bytes) -> int | None:
    """The CSV fields of one line; None if a quoted value is left open (the record goes on)."""
    try:
        text = line.rstrip(b"\r\n").decode("utf-8", errors="replace")
        records = list(csv.reader([text], strict=True))
    except csv.Error:
        return None
    return len(records[0]) if records else 0


def ending_of(first_line: bytes, tail: bytes, *, tail_is_whole_text: bool) -> Ending:
    """The end of a text whose first line (without its line break) is ``first_line`` and whose last
    bytes are ``tail`` (the whole text when ``tail_is_whole_text``)."""
    body = tail.rstrip(WHITESPACE)
    after_body = tail[len(body) :]
    if b"\n" in after_body:
        # The last record's line break, then a blank line per further break (and one for
        # whitespace left after the last break).
        blank = after_body.count(b"\n") - 1 + (0 if after_body.endswith(b"\n") else 1)
        final = after_body.endswith(b"\n")
        return Ending(terminated=True, final_line_break=final, trailing_blank_lines=blank)
    start = body.rfind(b"\n")
    if start < 0 and not tail_is_whole_text:
        return Ending(terminated=False, final_line_break=False, header_fields=count_fields(first_line))
    return Ending(
        terminated=False,
        final_line_break=False,
        last_line_fields=count_fields(body[start + 1 :]),
        header_fields=count_fields(first_line),
        header_only=start < 0,
        last_line=body[start + 1 :],
    )
