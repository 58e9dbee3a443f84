-- Carriers of flights that staging.airlines lacks, with their flights and first flight date.
select
    flights.carrier,
    count(*) as flights,
    min(flights.flight_date) as first_flight_date
from staging.flights as flights
where flights.carrier not in (select airlines.carrier from staging.airlines as airlines)
group by all
order by flights desc, flights.carrier asc
