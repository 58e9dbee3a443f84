-- Rows of a stored raw table ($table, e.g. 'raw.<table>').
select count(*) as stored_rows
from query_table($table)
