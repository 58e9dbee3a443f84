"""UTC offsets of local clock hours, from Python's zoneinfo, for ``staging/time_zone_offsets``.

``staging.flights`` places local clock times (hhmm at an airport) in time. Converting every row with
DuckDB's ``timezone(zone, local)`` costs about a second of CPU per 5 M rows and column; joining a
small table of (time zone, local hour) → UTC offset costs a fraction of that and gives the same
instants, because every offset change of the zones in use happens on a whole local hour (checked
here: a zone that changes its offset within a local hour is refused, not approximated).

Local times that do not exist (the hour skipped when daylight saving time starts) or exist twice
(the hour repeated when it ends) get the offset DuckDB's ICU-based ``timezone()`` gives them: a
skipped time is read with the offset from before the change, a repeated time as its later
occurrence. With zoneinfo (PEP 495) that is the smaller of the ``fold=0`` and ``fold=1`` offsets
in both cases: fold=0 is the offset before the change, fold=1 the one after.

DuckDB calls ``zoneinfo_offset_periods`` once per time zone (a Python function registered on the
connection that runs ``time_zone_offsets.sql``); it returns the zone's hours as runs with one
offset each, a handful per year, which the SQL expands to one row per hour.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from pipeline.warehouse.outputs import SqlFunction

HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)


class OffsetChangesWithinHour(ValueError):
    """A time zone's UTC offset changes inside a local clock hour: an hourly table cannot hold it."""


def utc_offset_minutes(zone: ZoneInfo, local: datetime) -> int:
    """Minutes east of UTC that ``timezone(zone, local)`` in DuckDB applies to the wall-clock time ``local``."""
    offsets = (local.replace(tzinfo=zone, fold=fold).utcoffset() for fold in (0, 1))
    return int(min(offsets) // MINUTE)


@cache
def offset_periods(time_zone: str, start: date, end: date) -> tuple[tuple[datetime, datetime, int], ...]:
    """The local hours [start, end) of ``time_zone`` as runs (first hour, end, offset in minutes)."""
    zone = ZoneInfo(time_zone)
    hour, stop = datetime.combine(start, datetime.min.time()), datetime.combine(end, datetime.min.time())
    periods: list[list] = []
    while hour < stop:
        offset = utc_offset_minutes(zone, hour)
        if periods and periods[-1][2] == offset:
            periods[-1][1] = hour + HOUR
        else:
            if periods:  # the offset changed: both hours around the change must hold one offset each
                _require_one_offset(zone, hour - HOUR, periods[-1][2])
                _require_one_offset(zone, hour, offset)
            periods.append([hour, hour + HOUR, offset])
        hour += HOUR
    return tuple((first, end_, offset) for first, end_, offset in periods)


def _require_one_offset(zone: ZoneInfo, hour: datetime, offset: int) -> None:
    for minute in range(60):
        local = hour + minute * MINUTE
        if utc_offset_minutes(zone, local) != offset:
            raise OffsetChangesWithinHour(
                f"Time zone {zone.key} changes its UTC offset within the local hour starting {hour:%Y-%m-%d %H:%M} "
                f"(at {local:%H:%M}): staging/time_zone_offsets holds one offset per local hour."
            )


def _periods_for_duckdb(time_zone: str, start: date, end: date) -> list[dict]:
    return [
        {"local_start": first, "local_end": end_, "utc_offset_minutes": offset}
        for first, end_, offset in offset_periods(time_zone, start, end)
    ]


ZONEINFO_OFFSET_PERIODS = SqlFunction(
    name="zoneinfo_offset_periods",
    function=_periods_for_duckdb,
    parameters=("VARCHAR", "DATE", "DATE"),
    return_type="STRUCT(local_start TIMESTAMP, local_end TIMESTAMP, utc_offset_minutes INTEGER)[]",
)
