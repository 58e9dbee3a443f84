-- Whether a row of one inserted file (the view landed_rows) breaks a rule of <rule_broken>: the
-- rules over the same columns (<typed_columns>, a text and its typed value each), evaluated once
-- per distinct combination of their stored values rather than once per row. Generated from the
-- table's declaration by pipeline/landing/domain.py and checked_insert.py.
select count(*) filter (where ${rule_broken}) > 0
from (
    select distinct ${typed_columns}
    from landed_rows as landed  -- noqa: AL05
) as typed
