-- The stored rows a load is about to replace, kept for the length of the write transaction before
-- they are deleted (pipeline/warehouse/changes.py); <stored_slice> is the IO manager's SELECT of the
-- slice (validated identifiers and the partition's bounds only).
create or replace temp table replaced_rows as
select stored.*
from (${stored_slice}) as stored
