-- Parse a landed file as the raw load does, but read on past bad rows: each one is recorded with
-- its line and column in reject_errors, and the rows that parse are kept in a temporary table.
create temp table landed as
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
