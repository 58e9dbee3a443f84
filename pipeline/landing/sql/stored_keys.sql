-- The distinct non-null values of one column (<column>, a declared name) of a stored raw table
-- ($table): a dimension's keys, or the keys stored facts use.
select distinct stored.__column__ as key_value
from query_table($table) as stored
where stored.__column__ is not null
