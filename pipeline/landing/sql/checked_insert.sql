-- A landed file parsed, checked and inserted in one streaming pass (pipeline/landing/checked_insert.py):
-- every column read as text with the parse's options (parse_landed_file.sql), typed only where the
-- text is exactly a value of the declared type (<typed_columns>), and a row inserted into <target>
-- only if it breaks no rule (<rule_broken>: the rules of domain_counts.sql, or-ed). A file is sound
-- when every record was inserted and none was rejected; otherwise the caller removes what went in
-- and diagnoses the file. <value_columns>, <typed_columns> and <rule_broken> are generated from
-- the table's declaration by pipeline/landing/domain.py (<typed_columns> reads the alias landed).
insert into ${target} by name
select
    ${value_columns},
    $source_file as _source_file,
    $source_version as _source_version,
    current_timestamp as _loaded_at
from (
    select ${typed_columns}
    from read_csv(
        $path,
        header = true,
        nullstr = 'NA',
        auto_detect = false,
        strict_mode = true,
        columns = $columns,
        store_rejects = true
    ) as landed  -- noqa: AL05
) as typed
where not coalesce(${rule_broken}, false)
