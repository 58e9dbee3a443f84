"""Partitions: flights and weather arrive and are processed one calendar month at a time."""

import dagster as dg

monthly_partitions = dg.MonthlyPartitionsDefinition(
    start_date="2013-01-01", end_date="2014-01-01", timezone="UTC"
)
