-- One pass over a landed file parsed as text (temp table landed, every column VARCHAR): each value
-- is typed only if its text is exactly a value of the column's declared type, else it is null
-- beside its text ("<column>:text"); then one count per rule of the rows that break it.
-- <typed_columns> and <rule_counts> are generated from the table's declaration
-- (pipeline/defs/raw/<table>/defs.yaml) by pipeline/landing/domain.py: quoted identifiers and predicates
-- only, every value is a $parameter.
with typed as (
    select
        landed._record as landed_record,
        ${typed_columns}
    from landed
)

select ${rule_counts}
from typed
