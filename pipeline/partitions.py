"""Partitions: flights and weather arrive and are processed one calendar month at a time."""

import warnings

import dagster as dg

# Monthly assets load a range of months in one run (BackfillPolicy.single_run()), deliberately;
# the parameter is marked beta in Dagster 1.13 and would warn on every code-location load.
warnings.filterwarnings("ignore", message="Parameter `backfill_policy`", category=dg.BetaWarning)

monthly_partitions = dg.MonthlyPartitionsDefinition(
    start_date="2013-01-01", end_date="2014-01-01", timezone="UTC"
)
