-- One row per rejected line and kind of error, in file order, with the first column it names.
select
    line,
    arg_min(column_name, column_idx) as column_name,
    error_type,
    arg_min(error_message, column_idx) as error_message
from reject_errors
group by line, error_type
order by line
