-- One row per tail number; manufacturer names that the source spells several ways are unified.
with deduplicated as (
    select * from raw.planes
    qualify row_number() over (partition by upper(trim(tailnum)) order by year desc nulls last) = 1
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
