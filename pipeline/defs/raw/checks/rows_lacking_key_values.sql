-- The first $sample_size rows of ${table} in the run's months ($months; null: every month) that
-- lack one of their key values (${key_values}), in the order they were loaded.
select landed.* exclude (_loaded_at)
from ${table} as landed
where
    ($months is null or ${month_of_row} = any($months))
    and not exists (
        -- a row when every key value is filled: COLUMNS(*) in a WHERE expands to a conjunction
        select 1 from (select ${key_values}) as key_values
        where columns(key_values.*) is not null
    )
order by landed.rowid
limit $sample_size
