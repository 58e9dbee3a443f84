-- A landed file parsed, checked and inserted in one streaming pass (pipeline/landing/checked_insert.py):
-- every column read as text (<landed_csv>: landed_csv.sql), typed only where the
-- text is exactly a value of the declared type (<typed_columns>), and a row inserted into <target>
-- only if it breaks no rule that reads numbers (<rule_broken>: those of domain_counts.sql, or-ed;
-- the ones that read text are evaluated after, per distinct value). A file is sound when every
-- record was inserted and none was rejected; otherwise the caller removes what went in and
-- diagnoses the file. <value_columns>, <typed_columns> and <rule_broken> are generated from
-- the table's declaration by pipeline/landing/domain.py (<typed_columns> reads the alias landed).
insert into ${target} by name
select
    ${value_columns},
    $source_file as _source_file,
    $source_version as _source_version,
    current_timestamp as _loaded_at
from (
    select ${typed_columns}
    from (${landed_csv}) as landed  -- noqa: AL05
) as typed
where not coalesce(${rule_broken}, false)
