-- The distinct non-null values of one column (<column>, a declared name) of a stored raw table
-- ($table): a dimension's keys, or the keys stored facts use.
select distinct stored.${column} as key_value
from query_table($table) as stored
where stored.${column} is not null
