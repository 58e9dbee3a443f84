-- What a write changed: the rows it replaced (<replaced>: kept before they were deleted, or the
-- stored table) against the rows it wrote (<written>), joined once on the table's key. The
-- generated parts come from the table's declaration (pipeline/warehouse/changes.py): <key_match>
-- compares the key columns, <row_key> packs them, <first_key> is one of them, <changed_flags> is
-- one "is distinct from" per other column, <changed_in_both> is true for a row of both versions
-- whose values differ, <changes> tells the old and new values of each column that does and
-- <changed_names> names those columns.
with compared as (
    select
        replaced.${first_key} is null as added,
        written.${first_key} is null as removed,
        ${key_struct} as row_key,  -- noqa: RF02
        ${changed_flags},  -- noqa: RF02
        case when ${changed_in_both} then concat_ws(', ', ${changes}) end as changes,  -- noqa: RF02
        case when ${changed_in_both} then ${changed_names} end as changed_names  -- noqa: RF02
    from ${replaced} as replaced  -- noqa: RF02
    full outer join ${written} as written  -- noqa: RF02
        on ${key_match}  -- noqa: RF02
)

select
    count(*) filter (where compared.added) as rows_added,
    count(*) filter (where compared.removed) as rows_removed,
    count(*) filter (where compared.changes is not null) as rows_changed,
    ${column_counts},
    min(compared.row_key, $sample_size) filter (where compared.added) as added_sample,
    min(compared.row_key, $sample_size) filter (where compared.removed) as removed_sample,
    min(
        struct_pack(
            row_key := compared.row_key, changes := compared.changes, columns := compared.changed_names
        ),
        $sample_size
    ) filter (
        where compared.changes is not null
    ) as changed_sample
from compared
