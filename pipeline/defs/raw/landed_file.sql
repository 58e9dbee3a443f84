-- Landed files of one raw table (a file per month of the run, or the one dimension file), typed
-- as the table's declaration says ($columns, from pipeline/defs/raw/tables.py), with lineage.
-- Strict parsing: a row with the wrong column count or a value that does not fit its type fails
-- the load with the file, line and column in DuckDB's message.
select
    * exclude (filename),
    parse_filename(filename) as _source_file,
    -- the archive version read (pipeline/landing/archive.py: <archive>/<file>/<version>/<file>)
    string_split(filename, '/')[-2] as _source_version,
    current_timestamp as _loaded_at
from read_csv(
    $path,
    header = true,
    nullstr = 'NA',
    auto_detect = false,
    strict_mode = true,
    filename = true,
    columns = $columns
)
