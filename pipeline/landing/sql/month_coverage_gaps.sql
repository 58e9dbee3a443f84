-- The units of a monthly file's month (days or hours, $units, as text: '2013-03-15' or
-- '2013-03-15T04:00:00Z') that no row of the parsed file (view landed) holds, for each value
-- ($across_values) of the column <across>; <unit> is a row's unit as the same text. Both are
-- generated from the table's coverage declaration by pipeline/landing/coverage.py.
with present as (
    select distinct
        landed.${across} as across_value,
        ${unit_of_row} as unit
    from landed
),

expected as (
    select
        across_values.across_value,
        units.unit
    from unnest($across_values) as across_values (across_value)
    cross join unnest($units) as units (unit)
)

select
    expected.across_value,
    list(expected.unit order by expected.unit) as missing_units
from expected
anti join present
    on expected.across_value = present.across_value and expected.unit = present.unit
group by expected.across_value
order by expected.across_value
