-- At least as many rows of one inserted file (the view landed_rows) as repeat its key
-- (<key_columns>): rows less distinct hashes of the key, so a repeated key is never missed.
select count(*) - count(distinct hash(${key_columns}))
from landed_rows
