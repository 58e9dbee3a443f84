-- Landed monthly weather files (one per partition in the run) (hourly observations at EWR, JFK and LGA), with their lineage.
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
        'origin': 'VARCHAR', 'year': 'SMALLINT', 'month': 'TINYINT', 'day': 'TINYINT',
        'hour': 'TINYINT', 'temp': 'DOUBLE', 'dewp': 'DOUBLE', 'humid': 'DOUBLE',
        'wind_dir': 'SMALLINT', 'wind_speed': 'DOUBLE', 'wind_gust': 'DOUBLE', 'precip': 'DOUBLE',
        'pressure': 'DOUBLE', 'visib': 'DOUBLE', 'time_hour': 'VARCHAR'
    }
)
