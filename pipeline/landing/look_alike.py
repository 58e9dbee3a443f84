"""How a name that is not a landing file name resembles one: a copy mark, letters or non-ASCII digits
in the month, a known table (and month) it begins with.

Pure string rules; the known tables are the declared ones (``LandedTables``). ``names.py`` turns
them into a reason, a suggestion and the delivery the name holds.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from pipeline.landing.landed_tables import LandedTables

# Characters that pass for digits by eye (a letter O for a zero, a lower-case L for a one).
LOOK_ALIKE_DIGITS = str.maketrans({"O": "0", "o": "0", "l": "1", "I": "1", "i": "1", "S": "5", "B": "8"})
COPY_MARK = re.compile(
    r"^(?P<stem>.+?)(?P<mark>\s*(\(\d+\)|-\s*Copy|\s+copy( \d+)?))(?P<ext>(\.[^.]+)*)$", re.I
)
MONTHLY_SHAPE = re.compile(r"^(?P<table>[^_]+)_(?P<month>[^.]*)(?P<ext>\..*)?$")
_YEAR_MONTH = re.compile(r"[0-9]{4}-[0-9]{2}")


def _one_of(tables: Iterable[str]) -> str:
    """A regex group matching any of the table names (longest first, so none stops at a prefix)."""
    return "(?P<table>" + "|".join(map(re.escape, sorted(tables, key=len, reverse=True))) + ")"


def monthly_name_start(name: str, monthly_tables: Iterable[str]) -> re.Match[str] | None:
    """A monthly name's exact beginning (``<table>_2013-03``) with something else after it."""
    tables = list(monthly_tables)
    if not tables:
        return None
    return re.match("^" + _one_of(tables) + r"_(?P<month>[0-9]{4}-[0-9]{2})(?![0-9])", name)


def ascii_digits(text: str) -> str:
    """Every digit that is not ASCII (full-width ０, Arabic-Indic ٦, superscript ⁶ …) as its ASCII digit."""
    return "".join(
        str(unicodedata.digit(char))
        if not char.isascii() and unicodedata.digit(char, None) is not None
        else char
        for char in text
    )


def carried_table(name: str, landed: LandedTables) -> tuple[str, str | None] | None:
    """The known table, and for a monthly table the month (``YYYY-MM``), that ``name`` begins with,
    look-alike digits read as digits; None if it begins with neither.

    Whatever follows: a part of a split delivery (``<table>_2013-03 (part 2).csv``,
    ``<table>_2013-03-part2.csv``), a copy, a typo.
    """
    readable = ascii_digits(name)
    carries_month = r"^\s*" + _one_of(landed.monthly) + r"[\s_-]*(?P<month>[0-9]{4}-[0-9]{2})(?![0-9])"
    if landed.monthly and (monthly := re.match(carries_month, readable, re.I)):
        return monthly["table"].lower(), monthly["month"]
    carries_whole = r"^\s*" + _one_of(landed.whole) + r"(?![a-z])"
    if landed.whole and (whole := re.match(carries_whole, readable, re.I)):
        return whole["table"].lower(), None
    return None


def look_alike_month(month: str) -> tuple[str, str] | None:
    """A month written with letters or non-ASCII digits where ASCII digits belong: what is wrong
    (``has the letter(s) 'O' where digits belong``) and the month as digits; None otherwise."""
    read_as_digits = ascii_digits(month).translate(LOOK_ALIKE_DIGITS)
    if read_as_digits == month or not _YEAR_MONTH.fullmatch(read_as_digits):
        return None
    letters = sorted({char for char in month if char.isascii() and char.isalpha()})
    digits = sorted({char for char in month if not char.isascii() and char.isdigit()})
    parts = [f"the letter(s) {', '.join(map(repr, letters))}"] if letters else []
    if digits:
        named = ", ".join(f"{char!r} ({unicodedata.name(char, 'a digit')})" for char in digits)
        parts.append(f"the look-alike digit(s) {named}")
    return f"has {' and '.join(parts)} where {'ASCII ' if digits else ''}digits belong", read_as_digits
