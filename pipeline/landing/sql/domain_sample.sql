-- The first lines (header is line 1) that break one rule of domain_counts, with the delivered
-- text of the columns the rule is about (<shown_columns>) and the rule's predicate
-- (<failing>), both generated from the table's declaration by pipeline/landing/domain.py.
with typed as (
    select
        landed._record as landed_record,
        ${typed_columns}
    from landed
)

select
    typed.landed_record + 2 as line,
    ${shown_columns}
from typed
where ${failing}
order by typed.landed_record
limit $sample_size
