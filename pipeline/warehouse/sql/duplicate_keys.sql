-- Keys (${key}) that more than one row of ${table} holds, in the run's months ($months; null:
-- every month; ${month_of_row} null for a table without months: the whole table): the rows
-- involved, and the first $sample_size keys with their copies. Shared by the raw and staging checks.
with duplicates as (
    select
        ${key},
        count(*) as copies
    from ${table}
    where $months is null or ${month_of_row} = any($months)
    group by all
    having count(*) > 1
)

select
    coalesce(sum(copies), 0) as failing_rows,
    list_slice(list(duplicates order by ${key}), 1, $sample_size) as sample
from duplicates
