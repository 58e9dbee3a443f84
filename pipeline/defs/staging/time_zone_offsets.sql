-- One row per IANA time zone of an airport and local clock hour in [$range_start, $range_end):
-- the UTC offset of the clock times in that hour, from Python's zoneinfo. zoneinfo_offset_periods
-- (pipeline/defs/staging/time_zones.py, registered on the connection) returns a zone's hours as
-- runs with one offset each; each run is expanded to its hours here. staging.flights joins this
-- table instead of converting every flight's times with timezone().
with zones as (
    select distinct time_zone
    from staging.airports
    where time_zone is not null
),

periods as (
    select
        time_zone,
        unnest(zoneinfo_offset_periods(time_zone, $range_start, $range_end)) as period
    from zones
)

select
    time_zone,
    unnest(
        generate_series(
            struct_extract(period, 'local_start'),
            struct_extract(period, 'local_end') - interval 1 hour,
            interval 1 hour
        )
    ) as local_hour,
    struct_extract(period, 'utc_offset_minutes') as utc_offset_minutes
from periods
