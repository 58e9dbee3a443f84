-- Airports flights use that the landed airports file lacks, and whether the reference supplement
-- (staging/airports) fills them. One row per code with the flights that use it.
with used as (
    select
        origin as faa,
        count(*) as flights
    from raw.flights
    group by all
    union all
    select
        dest as faa,
        count(*) as flights
    from raw.flights
    group by all
),

supplement as (
    select supplement_file.faa
    from
        read_csv(
            $supplement_path, header = true, auto_detect = false,
            columns = { 'faa': 'VARCHAR', 'name': 'VARCHAR', 'tzone': 'VARCHAR' }
        ) as supplement_file
)

select
    used.faa,
    sum(used.flights)::bigint as flights,
    used.faa in (select supplement.faa from supplement) as in_supplement
from used
where
    used.faa not in (
        select airports.faa from raw.airports as airports
        where airports.faa is not null
    )
group by all
order by flights desc, used.faa asc
