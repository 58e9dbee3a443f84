-- The landed airlines file: carrier code and name.
select
    * exclude (filename),
    parse_filename(filename) as _source_file,
    string_split(filename, '/')[-2] as _source_version,  -- the archive version read
    current_timestamp as _loaded_at
from read_csv(
    $path, header = true, nullstr = 'NA', auto_detect = false, strict_mode = true, filename = true,
    columns = {'carrier': 'VARCHAR', 'name': 'VARCHAR'}
)
