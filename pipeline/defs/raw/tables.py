"""The raw tables by name, as their folders declare them (``raw/<table>/defs.yaml``).

A raw table's declaration is the contract of every landed file: the ingest check
(``pipeline/landing/domain.py``) reads it on the text as delivered before anything is cast. Each
column's type says what its text may look like, ``nullable`` whether ``NA`` is allowed, its rules
the values' domain (ranges, clock times, closed code sets, patterns); ``row_rules`` what the values
of one row mean together, the key (``unique``) what no two rows share; ``lands`` whether a file
holds one month or the whole table. ``Table.csv_columns`` is what a landed file must hold, in
order, and the types the raw load casts the checked text to. Staging reuses these rules where its
columns mean the same (``same_as``).
"""

from pipeline.constants import RAW_SCHEMA
from pipeline.defs.declarations import declared_tables

RAW_TABLES = {table.name: table for table in declared_tables(RAW_SCHEMA)}
FLIGHTS = RAW_TABLES["flights"]
