-- The rows of <target> that one landed file (the variable landed_file) inserted in this
-- transaction: the stored slice they replace was deleted before the load inserted them.
create or replace temp view landed_rows as
select *
from ${target}
where _source_file = getvariable('landed_file')
