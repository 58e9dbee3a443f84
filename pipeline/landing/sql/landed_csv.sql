-- A landed file as its raw table's columns ($columns, every one VARCHAR: nothing is coerced before
-- it is checked) with the source's CSV conventions (a header, NA for a missing value). Bad rows
-- do not stop the parse: each is recorded with its line and column in reject_errors. Read by
-- parse_landed_file.sql (the diagnosis) and checked_insert.sql (the one-pass load).
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
