-- Whole records of the landed text by position (0-based; line = record + 2), in file order.
select
    landed._record + 2 as line,
    landed.* exclude (_record)
from landed
where list_contains($records, landed._record)
order by landed._record
