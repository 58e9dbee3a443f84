"""The raw tables as the landing code is handed them: which land as monthly files, which whole."""

from pipeline.defs.raw.tables import RAW_TABLES
from pipeline.landing.landed_tables import LandedTables

LANDED_TABLES = LandedTables.from_declarations(RAW_TABLES.values())
