-- One row per weather factor and bin: how departures fared in the weather observed at the
-- origin in the hour of their scheduled departure. Flights with no observation for that hour
-- are kept in a 'no observation' bin rather than dropped.
with flights_with_weather as (
    select
        flights.dep_delay_minutes,
        flights.is_cancelled,
        weather.precipitation_in,
        weather.visibility_miles,
        weather.wind_speed_mph,
        weather.origin is not null as observed
    from staging.flights as flights
    left join staging.weather as weather
        on flights.origin = weather.origin and flights.sched_dep_hour = weather.observed_at
),

binned as (
    select
        dep_delay_minutes,
        is_cancelled,
        case
            when not observed or precipitation_in is null then 'no observation'
            when precipitation_in = 0 then 'none'
            when precipitation_in <= 0.1 then 'light (≤ 0.1 in/h)'
            else 'heavy (> 0.1 in/h)'
        end as precipitation_bin,
        case
            when not observed or visibility_miles is null then 'no observation'
            when visibility_miles < 1 then '< 1 mi'
            when visibility_miles < 5 then '1–5 mi'
            when visibility_miles < 10 then '5–10 mi'
            else '10 mi or more'
        end as visibility_bin,
        case
            when not observed or wind_speed_mph is null then 'no observation'
            when wind_speed_mph < 10 then '< 10 mph'
            when wind_speed_mph < 20 then '10–20 mph'
            else '20 mph or more'
        end as wind_bin
    from flights_with_weather
),

unpivoted as (
    select
        'precipitation' as factor,
        precipitation_bin as bin,
        dep_delay_minutes,
        is_cancelled
    from binned
    union all
    select
        'visibility' as factor,
        visibility_bin as bin,
        dep_delay_minutes,
        is_cancelled
    from binned
    union all
    select
        'wind' as factor,
        wind_bin as bin,
        dep_delay_minutes,
        is_cancelled
    from binned
)

select
    factor,
    bin,
    count(*) as flights,
    count(*) filter (where is_cancelled) / count(*) as cancellation_rate,
    avg(dep_delay_minutes) as mean_dep_delay_minutes,
    quantile_cont(dep_delay_minutes, 0.9) as p90_dep_delay_minutes,
    count(*) filter (where dep_delay_minutes > 15)
    / nullif(count(*) filter (where not is_cancelled), 0) as delayed_share
from unpivoted
group by all
order by factor, bin
