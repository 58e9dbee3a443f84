-- Parsed rows of a monthly file whose date (the raw partition expression) is not a valid day of
-- the month the file is named for.
select count(*) as rows_outside
from landed
where date_trunc('month', try(make_date(year, month, day))) is distinct from $month_start
