-- Hours of staging.time_zone_offsets where the instant staging.flights computes from the offset
-- (the local time minus the offset) differs from DuckDB's timezone() at the first or the last
-- minute of the hour: how many, and the first $sample_size of them.
with compared as (
    select
        time_zone,
        local_hour,
        utc_offset_minutes,
        to_timestamp(epoch(local_hour)::bigint - 60 * utc_offset_minutes) as first_minute_at,
        timezone(time_zone, local_hour) as first_minute_duckdb,
        to_timestamp(epoch(local_hour)::bigint + 59 * 60 - 60 * utc_offset_minutes) as last_minute_at,
        timezone(time_zone, local_hour + interval 59 minute) as last_minute_duckdb
    from staging.time_zone_offsets
),

disagreeing as (
    select *
    from compared
    where
        first_minute_at is distinct from first_minute_duckdb
        or last_minute_at is distinct from last_minute_duckdb
)

select
    count(*) as failing_rows,
    list_slice(list(disagreeing order by time_zone, local_hour), 1, $sample_size) as sample
from disagreeing
