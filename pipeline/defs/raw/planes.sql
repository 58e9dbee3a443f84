-- The landed planes file: one row per tail number with its build year and model.
select
    * exclude (filename),
    parse_filename(filename) as _source_file,
    string_split(filename, '/')[-2] as _source_version,  -- the archive version read
    current_timestamp as _loaded_at
from read_csv(
    $path, header = true, nullstr = 'NA', auto_detect = false, strict_mode = true, filename = true,
    columns = {
        'tailnum': 'VARCHAR', 'year': 'SMALLINT', 'type': 'VARCHAR', 'manufacturer': 'VARCHAR',
        'model': 'VARCHAR', 'engines': 'TINYINT', 'seats': 'SMALLINT', 'speed': 'SMALLINT',
        'engine': 'VARCHAR'
    }
)
