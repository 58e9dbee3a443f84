-- One row per origin airport: the sums a least-squares fit of departure delay on the weather
-- needs (n, Σx, Σxxᵀ, Σxy, Σy, Σy² for x = precipitation, visibility, wind speed), computed here
-- so that only three small rows leave DuckDB. Departed flights with a reported delay, joined to
-- the observation at their origin in the hour of scheduled departure, with every factor present.
-- The one 1,048 mph wind reading in the source is a sensor fault: readings above
-- $max_plausible_wind_mph (pipeline/defs/rules.py) are left out.
with observations as (
    select
        flights.origin,
        flights.dep_delay_minutes::double as delay,
        weather.precipitation_in as precipitation,
        weather.visibility_miles as visibility,
        weather.wind_speed_mph as wind
    from staging.flights as flights
    inner join staging.weather as weather
        on flights.origin = weather.origin and flights.sched_dep_hour = weather.observed_at
    where
        flights.dep_delay_minutes is not null
        and weather.precipitation_in is not null
        and weather.visibility_miles is not null
        and weather.wind_speed_mph is not null
        and weather.wind_speed_mph <= $max_plausible_wind_mph
)

select
    origin,
    count(*) as n,
    sum(precipitation) as sum_precipitation,
    sum(visibility) as sum_visibility,
    sum(wind) as sum_wind,
    sum(precipitation * precipitation) as sum_precipitation_precipitation,
    sum(precipitation * visibility) as sum_precipitation_visibility,
    sum(precipitation * wind) as sum_precipitation_wind,
    sum(visibility * visibility) as sum_visibility_visibility,
    sum(visibility * wind) as sum_visibility_wind,
    sum(wind * wind) as sum_wind_wind,
    sum(delay) as sum_delay,
    sum(precipitation * delay) as sum_precipitation_delay,
    sum(visibility * delay) as sum_visibility_delay,
    sum(wind * delay) as sum_wind_delay,
    sum(delay * delay) as sum_delay_delay
from observations
group by origin
order by origin
