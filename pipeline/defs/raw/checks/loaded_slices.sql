-- The rows ${table} holds per landed file, archived version and month (a dimension has none), in
-- the run's months ($months; null: every month).
select
    _source_file as file,
    _source_version as version,
    ${month_of_row} as month,
    count(*) as rows_in_warehouse
from ${table}
where $months is null or ${month_of_row} = any($months)
group by all
order by month, file, version
