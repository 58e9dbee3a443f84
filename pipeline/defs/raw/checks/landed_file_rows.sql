-- Data rows in an archived landed file, read as text with no type sniffing: a count that does
-- not depend on how the raw load parses the file.
select count(*) as rows_in_file
from read_csv($path, header = true, all_varchar = true, nullstr = 'NA')
