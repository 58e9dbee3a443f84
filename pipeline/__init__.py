"""Dagster code location for the NYC flights 2013 ELT pipeline (DuckDB warehouse)."""
