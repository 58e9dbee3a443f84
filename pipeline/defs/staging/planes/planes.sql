-- One row per tail number; manufacturer names that the source spells several ways are unified.
-- Ingest already refuses a planes file holding a tail number twice (naming both lines), so each
-- tail number has one raw row. Should two ever share it, the choice does not depend on row order:
-- the newest build year, then the smallest value of every other column.
with deduplicated as (
    select * from raw.planes
    qualify row_number() over (
        partition by upper(trim(tailnum))
        order by
            year desc nulls last, tailnum asc, type asc, manufacturer asc, model asc, engines asc,
            seats asc, speed asc, engine asc
    ) = 1
)

select
    upper(trim(tailnum)) as tailnum,
    year as build_year,
    type as aircraft_type,
    case
        when manufacturer like 'AIRBUS%' then 'AIRBUS'
        when manufacturer like 'MCDONNELL DOUGLAS%' then 'MCDONNELL DOUGLAS'
        when manufacturer like 'CANADAIR%' then 'BOMBARDIER'
        else trim(manufacturer)
    end as manufacturer,
    trim(model) as model,
    engines,
    seats,
    speed as cruise_speed_mph,
    engine as engine_type
from deduplicated
