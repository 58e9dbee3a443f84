-- One landed file into its raw table (__target__, created from pipeline/defs/raw/tables.py): the
-- temporary table landed holds the file parsed once as text and checked against the declaration
-- (pipeline/landing/ingest.py), so each value is the exact text of its column's type, which the
-- insert casts by column name. Lineage: the file's name and archived version (its SHA-256 prefix).
insert into __target__ by name
select
    landed.* exclude (_record),
    $source_file as _source_file,
    $source_version as _source_version,
    current_timestamp as _loaded_at
from landed
