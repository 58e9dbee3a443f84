-- Whether a row of one inserted file (the view landed_rows) breaks a rule of <rule_broken>: the
-- rules over the same columns (<columns>), evaluated once per distinct combination of their
-- stored values rather than once per row (<typed_columns>: a text and its typed value each).
-- Generated from the table's declaration by pipeline/landing/domain.py and checked_insert.py.
with landed as (
    select distinct ${columns}
    from landed_rows
)

select count(*) filter (where ${rule_broken}) > 0
from (
    select ${typed_columns}
    from landed
) as typed
