-- Flights whose tail number staging.planes lacks: the flights that have a tail number, how many
-- of them it lacks, and the first $sample_size tail numbers (with carrier) by flights.
with unknown as (
    select
        tailnum,
        carrier,
        count(*) as flights
    from staging.flights
    where tailnum not in (select planes.tailnum from staging.planes as planes)
    group by all
)

select
    (select count(tailnum) from staging.flights) as flights_with_tailnum,
    (select coalesce(sum(unknown.flights), 0) from unknown) as unknown_flights,
    (
        select list_slice(list(unknown order by unknown.flights desc, unknown.tailnum asc), 1, $sample_size)
        from unknown
    ) as sample
