-- Flights departing in [$window_start, $window_end), typed and placed in time.
-- Source times are local clock times (hhmm) at the origin (departures) and destination
-- (arrivals): each becomes a TIMESTAMPTZ through the airport's IANA time zone. Actual times are
-- the scheduled ones plus the reported delay, which stays right across midnight; a scheduled
-- arrival earlier than the departure is on the next day.
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

localized as (
    select
        source.*,
        make_date(source.year, source.month, source.day) as flight_date,
        timezone(
            origin_zone.time_zone,
            make_date(source.year, source.month, source.day)::timestamp
            + to_minutes((source.sched_dep_time // 100) * 60 + source.sched_dep_time % 100)
        ) as sched_dep_at,
        timezone(
            dest_zone.time_zone,
            make_date(source.year, source.month, source.day)::timestamp
            + to_minutes((source.sched_arr_time // 100) * 60 + source.sched_arr_time % 100)
        ) as sched_arr_same_day
    from source
    left join time_zones as origin_zone on source.origin = origin_zone.faa
    left join time_zones as dest_zone on source.dest = dest_zone.faa
),

scheduled as (
    select
        *,
        case
            when sched_arr_same_day < sched_dep_at then sched_arr_same_day + interval 1 day
            else sched_arr_same_day
        end as sched_arr_at
    from localized
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
    sched_dep_at,
    sched_dep_at + to_minutes(dep_delay) as dep_at,
    sched_arr_at,
    sched_arr_at + to_minutes(arr_delay) as arr_at,
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
