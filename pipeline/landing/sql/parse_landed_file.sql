-- Parse a landed file once (<landed_csv>: landed_csv.sql), every column as text, into the
-- temporary table landed_text (numbered by number_records.sql): the checks read it, and a clean
-- file is inserted from it (pipeline/defs/raw/landed_file.sql).
create or replace temp table landed_text as
select *
from (${landed_csv}) as landed_csv  -- noqa: AL05
