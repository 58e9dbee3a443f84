-- Whether a row of one inserted file (the view landed_rows) breaks a rule of <rule_broken>: the
-- rules over the same columns are evaluated once per distinct combination of their stored values
-- rather than once per row. One scan yields every such combination: a grouping set per group of
-- columns (<grouping_sets>), each of its rows tagged with grouping(<columns>) as grouping_set, and
-- each group's rules or-ed under its tag in <rule_broken> (a column outside a row's set is null
-- there, not a value). <typed_columns>: a text and its typed value each. Generated from the table's
-- declaration by pipeline/landing/domain.py and checked_insert.py.
with landed as (
    select
        ${columns},
        grouping(${columns}) as grouping_set
    from landed_rows
    group by grouping sets (${grouping_sets})
)

select count(*) filter (where ${rule_broken}) > 0
from (
    select
        grouping_set,
        ${typed_columns}
    from landed
) as typed
