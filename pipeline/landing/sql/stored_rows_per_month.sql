-- Rows per month of a stored monthly raw table ($table, e.g. 'raw.<table>').
select
    make_date(stored.year, stored.month, 1) as month_start,
    count(*) as stored_rows
from query_table($table) as stored
group by all
