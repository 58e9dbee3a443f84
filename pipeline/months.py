"""A month as the project keys it: ``2013-03`` in file names and messages, ``2013-03-01`` as a
partition key, ``date(2013, 3, 1)`` where a load compares dates."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

# ASCII digits only: \d would also take full-width and other Unicode digits.
_LABEL = re.compile(r"[0-9]{4}-[0-9]{2}")


@dataclass(frozen=True, order=True)
class MonthKey:
    """One calendar month. ``MonthKey.from_partition_key("2013-03-01").label == "2013-03"``."""

    year: int
    month: int

    @classmethod
    def from_label(cls, label: str) -> MonthKey:
        """``"2013-03"`` → March 2013. Any two digits are taken as the month: a file named for month
        13 is then told as outside the partitions, not as misnamed."""
        if not _LABEL.fullmatch(label):
            raise ValueError(f"{label!r} is not a month written YYYY-MM")
        return cls(int(label[:4]), int(label[5:]))

    @classmethod
    def from_date(cls, day: date) -> MonthKey:
        return cls(day.year, day.month)

    @classmethod
    def from_partition_key(cls, key: str) -> MonthKey:
        """``"2013-03-01"`` → March 2013; a key that is not a month's first day is refused."""
        day = date.fromisoformat(key)
        if day.day != 1:
            raise ValueError(f"partition key {key!r} is not the first day of a month")
        return cls.from_date(day)

    @property
    def label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def partition_key(self) -> str:
        return f"{self.label}-01"

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    def __str__(self) -> str:
        return self.label
