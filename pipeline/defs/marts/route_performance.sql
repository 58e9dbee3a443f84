-- One row per route (origin → destination airport).
select
    origin,
    dest,
    dest_airports.airport_name as dest_name,
    median(distance_miles)::integer as distance_miles,
    count(*) as flights,
    count(distinct carrier) as carriers,
    count(*) filter (where is_cancelled) / count(*) as cancellation_rate,
    avg(dep_delay_minutes) as mean_dep_delay_minutes,
    avg(arr_delay_minutes) as mean_arr_delay_minutes,
    quantile_cont(arr_delay_minutes, 0.9) as p90_arr_delay_minutes,
    count(*) filter (where arr_delay_minutes <= 15)
        / nullif(count(*) filter (where not is_cancelled), 0) as on_time_share
from staging.flights
left join staging.airports as dest_airports on dest_airports.faa = staging.flights.dest
group by all
order by origin, dest
