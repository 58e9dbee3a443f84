-- Flights per route: the mart against a recount from staging. One row per route where they differ.
with staged as (
    select
        origin,
        dest,
        count(*) as flights
    from staging.flights
    group by all
)

select
    origin,
    dest,
    staged.flights as staging_flights,
    mart.flights as mart_flights
from staged
full outer join marts.route_performance as mart using (origin, dest)
where abs(coalesce(staged.flights, 0) - coalesce(mart.flights, 0)) > $tolerance
order by origin, dest
