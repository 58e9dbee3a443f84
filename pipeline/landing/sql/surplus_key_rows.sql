-- At least as many rows of one inserted file (the view landed_rows) as repeat its key
-- (<surplus_key_rows>: domain.repeated_key_rows over the key's stored values, which the insert took
-- only as their exact text, so equal texts are equal values).
select ${surplus_key_rows}
from landed_rows
