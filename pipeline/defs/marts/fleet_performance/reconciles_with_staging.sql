-- All flights: each flight is in one manufacturer and age band of the fleet mart (unknown planes
-- included). One row ('all') when the mart's total differs from staging's by more than $tolerance.
select
    'all' as grp,
    sum(fleet.flights)::bigint as mart_flights,
    (select count(*) from staging.flights) as staging_flights
from marts.fleet_performance as fleet
group by all
having abs(mart_flights - staging_flights) > $tolerance
