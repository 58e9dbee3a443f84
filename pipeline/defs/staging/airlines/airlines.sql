-- One row per carrier code with its airline name. Ingest refuses an airlines file holding a code
-- twice (naming both lines); should one still appear twice, the pick does not depend on row order.
select
    upper(trim(carrier)) as carrier,
    trim(name) as carrier_name
from raw.airlines
qualify row_number() over (partition by upper(trim(carrier)) order by name, carrier) = 1
