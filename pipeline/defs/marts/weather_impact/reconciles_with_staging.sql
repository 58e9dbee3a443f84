-- Flights per weather factor: each flight falls in one bin of every factor, so each factor's bins
-- add up to staging's flights. One row per factor where they differ by more than $tolerance.
select
    factor as grp,
    sum(flights)::bigint as mart_flights,
    (select count(*) from staging.flights) as staging_flights
from marts.weather_impact
group by all
having abs(mart_flights - staging_flights) > $tolerance
order by grp
