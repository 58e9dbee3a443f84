-- One row per manufacturer and plane-age band (age in 2013 from the build year). Flights whose
-- tail number is not in the planes table, or has no build year, are kept as 'unknown'.
with flights_with_planes as (
    select
        flights.dep_delay_minutes,
        flights.arr_delay_minutes,
        flights.is_cancelled,
        flights.tailnum,
        coalesce(planes.manufacturer, 'unknown') as manufacturer,
        flights.year - planes.build_year as age_years
    from staging.flights as flights
    left join staging.planes as planes using (tailnum)
)

select
    manufacturer,
    case
        when age_years is null then 'unknown'
        when age_years < 5 then '00–04 years'
        when age_years < 10 then '05–09 years'
        when age_years < 15 then '10–14 years'
        when age_years < 20 then '15–19 years'
        else '20 years or more'
    end as age_band,
    count(*) as flights,
    count(distinct tailnum) as planes,
    count(*) filter (where is_cancelled) / count(*) as cancellation_rate,
    avg(dep_delay_minutes) as mean_dep_delay_minutes,
    avg(arr_delay_minutes) as mean_arr_delay_minutes,
    quantile_cont(arr_delay_minutes, 0.9) as p90_arr_delay_minutes
from flights_with_planes
group by all
order by manufacturer, age_band
