-- The distinct values of a dimension's key column (<key_column>, from its declaration) as
-- delivered.
select distinct ${key_column} as key_value
from landed
