-- Landed monthly flights files (one per partition in the run), typed as declared upstream, with their lineage.
-- Strict parsing: a row with the wrong column count or a value that does not fit its type fails
-- the load with the file, line and column in DuckDB's message.
select
    * exclude (filename),
    parse_filename(filename) as _source_file,
    -- the archive version read (pipeline/archive.py: <archive>/<file>/<version>/<file>)
    string_split(filename, '/')[-2] as _source_version,
    current_timestamp as _loaded_at
from read_csv(
    $path,
    header = true,
    nullstr = 'NA',
    auto_detect = false,
    strict_mode = true,
    filename = true,
    columns = {
        'year': 'SMALLINT', 'month': 'TINYINT', 'day': 'TINYINT',
        'dep_time': 'SMALLINT', 'sched_dep_time': 'SMALLINT', 'dep_delay': 'SMALLINT',
        'arr_time': 'SMALLINT', 'sched_arr_time': 'SMALLINT', 'arr_delay': 'SMALLINT',
        'carrier': 'VARCHAR', 'flight': 'INTEGER', 'tailnum': 'VARCHAR',
        'origin': 'VARCHAR', 'dest': 'VARCHAR', 'air_time': 'SMALLINT', 'distance': 'SMALLINT',
        'hour': 'TINYINT', 'minute': 'TINYINT', 'time_hour': 'VARCHAR'
    }
)
