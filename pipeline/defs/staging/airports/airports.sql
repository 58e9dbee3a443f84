-- One row per airport FAA code, with its IANA time zone. Puerto Rico and US Virgin Islands
-- airports that flights reach but the source omits come from a reference file shipped with
-- the code ($supplement_path), so every destination has a time zone.
with source as (
    select
        faa,
        name,
        lat,
        lon,
        alt,
        tz,
        dst,
        tzone
    from raw.airports
),

supplement as (
    select
        faa,
        name,
        null::double as lat,
        null::double as lon,
        null::integer as alt,
        null::smallint as tz,
        null::varchar as dst,
        tzone
    from
        read_csv(
            $supplement_path, header = true, auto_detect = false,
            columns = { 'faa': 'VARCHAR', 'name': 'VARCHAR', 'tzone': 'VARCHAR' }
        ) as supplement_file
    where supplement_file.faa not in (select source.faa from source)
),

deduplicated as (
    select * from (
        select * from source
        union all by name
        select * from supplement
    ) as combined
    -- Ingest refuses an airports file holding a code twice, and the supplement only adds codes
    -- the file lacks; should a code still appear twice, the pick does not depend on row order.
    qualify row_number() over (partition by faa order by name, lat, lon, alt, tz, dst, tzone) = 1
)

select
    faa,
    trim(name) as airport_name,
    lat as latitude,
    lon as longitude,
    alt as altitude_ft,
    tz as utc_offset_hours,
    dst as dst_rule,
    tzone as time_zone,
    deduplicated.faa in (select supplement.faa from supplement) as from_reference_supplement
from deduplicated
