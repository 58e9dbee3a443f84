-- Rows of a stored raw table ($table, e.g. 'raw.airports').
select count(*) as stored_rows
from query_table($table)
