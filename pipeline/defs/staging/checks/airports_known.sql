-- Origins and destinations of flights that staging.airports lacks, with the flights using them.
with flight_ends as (
    select
        'origin' as role,
        origin as code
    from staging.flights
    union all
    select
        'dest' as role,
        dest as code
    from staging.flights
)

select
    role,
    code,
    count(*) as flights
from flight_ends
where code not in (select airports.faa from staging.airports as airports)
group by all
order by flights desc, code asc
