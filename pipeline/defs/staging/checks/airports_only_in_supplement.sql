-- Airports that flights use but the airports source lacks, resolved only by the reference
-- supplement shipped with the code. One row per code with the flights that use it.
with used as (
    select
        origin as faa,
        count(*) as flights
    from staging.flights
    group by all
    union all
    select
        dest as faa,
        count(*) as flights
    from staging.flights
    group by all
)

select
    used.faa,
    airports.airport_name,
    sum(used.flights)::bigint as flights
from used
inner join staging.airports as airports on used.faa = airports.faa
where airports.from_reference_supplement
group by all
order by flights desc, used.faa asc
