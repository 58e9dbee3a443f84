-- The newest month ${table} holds (by ${date_column}); null when it is empty.
select max(date_trunc('month', ${date_column}))::date as newest_month
from ${table}
