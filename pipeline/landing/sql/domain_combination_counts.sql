-- The rows of landed that break one rule whose columns take few distinct combinations (an hour of
-- the year): its predicate (<failing>) is evaluated once per combination of the columns' text and
-- typed values (<combination_columns>), weighed by the rows holding it. <typed_columns> as in
-- domain_counts.sql; all generated from the declaration by pipeline/landing/domain.py.
with typed as (
    select
        landed._record as landed_record,
        __typed_columns__
    from landed
),

combinations as (
    select
        __combination_columns__,
        count(*) as rows_holding
    from typed
    group by all
)

select coalesce(sum(combinations.rows_holding) filter (where __failing__), 0) as failing_rows
from combinations
