-- The parsed file (landed_text) with each record's position in the file (_record, 0-based: line
-- = _record + 2). Row ids are in file order but, inside the write transaction, do not start at 0.
create or replace temp view landed as
select
    landed_text.rowid - (select min(first.rowid) from landed_text as first) as _record,
    landed_text.*
from landed_text
