-- Undo an insert of one landed file (the variable landed_file) that turned out not to be sound: its
-- rows are the only ones of that file in <target>, the stored slice having been deleted before.
delete from ${target}
where _source_file = getvariable('landed_file')
