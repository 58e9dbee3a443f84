-- One row per route (origin → destination airport).
select
    flights.origin,
    flights.dest,
    dest_airports.airport_name as dest_name,
    median(flights.distance_miles)::integer as distance_miles,
    count(*) as flights,
    count(distinct flights.carrier) as carriers,
    count(*) filter (where flights.is_cancelled) / count(*) as cancellation_rate,
    avg(flights.dep_delay_minutes) as mean_dep_delay_minutes,
    avg(flights.arr_delay_minutes) as mean_arr_delay_minutes,
    quantile_cont(flights.arr_delay_minutes, 0.9) as p90_arr_delay_minutes,
    count(*) filter (where flights.arr_delay_minutes <= 15)
    / nullif(count(*) filter (where not flights.is_cancelled), 0) as on_time_share
from staging.flights as flights
left join staging.airports as dest_airports on flights.dest = dest_airports.faa
group by all
order by flights.origin, flights.dest
