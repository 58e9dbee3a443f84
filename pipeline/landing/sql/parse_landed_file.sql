-- Parse a landed file once, every column as text, into the temporary table landed_text (numbered
-- by number_records.sql): the checks read it, and a clean file is inserted from it
-- (pipeline/defs/raw/landed_file.sql). Bad rows do not stop the parse: each is recorded with its
-- line and column in reject_errors.
create or replace temp table landed_text as
select *
from read_csv(
    $path,
    header = true,
    nullstr = 'NA',
    auto_detect = false,
    strict_mode = true,
    columns = $columns,
    store_rejects = true
)
