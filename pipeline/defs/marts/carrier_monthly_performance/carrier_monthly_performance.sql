-- One row per carrier and month. On time: arrived no more than 15 minutes late; the share is of
-- flights that departed (cancelled flights count in the cancellation rate, diverted ones count
-- as not on time). Delay statistics are over flights that have the delay reported.
select
    flights.carrier,
    airlines.carrier_name,
    date_trunc('month', flights.flight_date)::timestamp as month,
    count(*) as flights,
    count(*) filter (where flights.is_cancelled) as cancelled_flights,
    count(*) filter (where flights.is_cancelled) / count(*) as cancellation_rate,
    avg(flights.dep_delay_minutes) as mean_dep_delay_minutes,
    quantile_cont(flights.dep_delay_minutes, 0.9) as p90_dep_delay_minutes,
    avg(flights.arr_delay_minutes) as mean_arr_delay_minutes,
    quantile_cont(flights.arr_delay_minutes, 0.9) as p90_arr_delay_minutes,
    count(*) filter (where flights.arr_delay_minutes <= 15)
    / nullif(count(*) filter (where not flights.is_cancelled), 0) as on_time_share
from staging.flights as flights
left join staging.airlines as airlines using (carrier)
group by all
order by flights.carrier, month
