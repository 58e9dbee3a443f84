-- Whole records of the landed text by position (0-based; line = record + 2), in file order.
select
    landed.rowid + 2 as line,
    landed.*
from landed
where list_contains($records, landed.rowid)
order by landed.rowid
