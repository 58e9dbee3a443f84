-- One row per carrier code with its airline name.
select
    upper(trim(carrier)) as carrier,
    trim(name) as carrier_name
from raw.airlines
qualify row_number() over (partition by upper(trim(carrier)) order by name) = 1
