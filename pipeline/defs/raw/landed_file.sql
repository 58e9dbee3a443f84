-- One landed file's rows with their lineage: the view landed holds the file parsed once as text
-- and checked against the raw table's declaration (pipeline/landing/ingest.py), so each value is
-- the exact text of its column's type; inserted by name into the table created from the
-- declaration (pipeline/defs/raw/<table>/defs.yaml), each is cast to that type. _source_version is the
-- archived version's SHA-256 prefix.
select
    landed.* exclude (_record),
    $source_file as _source_file,
    $source_version as _source_version,
    current_timestamp as _loaded_at
from landed
