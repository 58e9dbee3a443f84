-- Flights departing in [$window_start, $window_end), typed and placed in time.
-- Source times are local clock times (hhmm) at the origin (departures) and destination
-- (arrivals). Each becomes an instant through the airport's IANA time zone: the UTC offset of
-- its local clock hour comes from staging.time_zone_offsets (zoneinfo, the same instants as
-- DuckDB's timezone(), which is not called per row), and the instant is the local time minus
-- that offset, computed in epoch seconds. Actual times are the scheduled ones plus the reported
-- delay, which stays right across midnight; a scheduled arrival earlier than the departure is
-- on the next day (24 hours later).
with source as (
    select * from raw.flights
    where
        make_date(year, month, day) >= $window_start
        and make_date(year, month, day) < $window_end
),

time_zones as (
    select
        faa,
        time_zone
    from staging.airports
),

local_times as (
    select
        source.*,
        make_date(source.year, source.month, source.day) as flight_date,
        origin_zone.time_zone as origin_time_zone,
        dest_zone.time_zone as dest_time_zone,
        make_date(source.year, source.month, source.day)::timestamp
        + to_minutes((source.sched_dep_time // 100) * 60 + source.sched_dep_time % 100) as sched_dep_local,
        make_date(source.year, source.month, source.day)::timestamp
        + to_minutes((source.sched_arr_time // 100) * 60 + source.sched_arr_time % 100) as sched_arr_local
    from source
    left join time_zones as origin_zone on source.origin = origin_zone.faa
    left join time_zones as dest_zone on source.dest = dest_zone.faa
),

utc_seconds as (
    select
        local_times.*,
        epoch(local_times.sched_dep_local)::bigint
        - 60 * origin_offset.utc_offset_minutes as sched_dep_epoch,
        epoch(local_times.sched_arr_local)::bigint
        - 60 * dest_offset.utc_offset_minutes as sched_arr_same_day_epoch
    from local_times
    left join staging.time_zone_offsets as origin_offset
        on
            local_times.origin_time_zone = origin_offset.time_zone
            and date_trunc('hour', local_times.sched_dep_local) = origin_offset.local_hour
    left join staging.time_zone_offsets as dest_offset
        on
            local_times.dest_time_zone = dest_offset.time_zone
            and date_trunc('hour', local_times.sched_arr_local) = dest_offset.local_hour
),

scheduled as (
    select
        *,
        case
            when sched_arr_same_day_epoch < sched_dep_epoch then sched_arr_same_day_epoch + 86400
            else sched_arr_same_day_epoch
        end as sched_arr_epoch
    from utc_seconds
)

select
    flight_date,
    year,
    month,
    day,
    upper(carrier) as carrier,
    flight as flight_number,
    upper(tailnum) as tailnum,
    origin,
    dest,
    to_timestamp(sched_dep_epoch) as sched_dep_at,
    to_timestamp(sched_dep_epoch + 60 * dep_delay::integer) as dep_at,
    to_timestamp(sched_arr_epoch) as sched_arr_at,
    to_timestamp(sched_arr_epoch + 60 * arr_delay::integer) as arr_at,
    dep_delay::integer as dep_delay_minutes,
    arr_delay::integer as arr_delay_minutes,
    air_time::integer as air_time_minutes,
    distance::integer as distance_miles,
    dep_time is null as is_cancelled,
    dep_time is not null and arr_delay is null as is_diverted,
    time_hour::timestamptz as sched_dep_hour,
    _source_file,
    _loaded_at
from scheduled
