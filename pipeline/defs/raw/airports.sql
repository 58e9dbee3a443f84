-- The landed airports file: FAA code, name, position, UTC offset, DST rule and IANA time zone.
select
    * exclude (filename),
    parse_filename(filename) as _source_file,
    string_split(filename, '/')[-2] as _source_version,  -- the archive version read
    current_timestamp as _loaded_at
from read_csv(
    $path, header = true, nullstr = 'NA', auto_detect = false, strict_mode = true, filename = true,
    columns = {
        'faa': 'VARCHAR', 'name': 'VARCHAR', 'lat': 'DOUBLE', 'lon': 'DOUBLE', 'alt': 'INTEGER',
        'tz': 'SMALLINT', 'dst': 'VARCHAR', 'tzone': 'VARCHAR'
    }
)
