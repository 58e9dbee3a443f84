-- Nulls among the key values (${key_values}) of ${table} in the run's months ($months; null:
-- every month): a count per key column, named after it (COLUMNS(*) expands in the order given),
-- then the rows lacking any (in a FILTER, COLUMNS(*) expands to a conjunction: every value filled).
with key_values as (
    select ${key_values}
    from ${table}
    where $months is null or ${month_of_row} = any($months)
)

select
    count(*) - count(columns(*)),
    count(*) - count(*) filter (where columns(*) is not null) as failing_rows
from key_values
