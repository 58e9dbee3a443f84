-- Keys (<key_columns>, the table's declared key, compared as delivered text) held by more than
-- one line: the first few with the lines holding each, and how many surplus rows there are in all.
select
    list(landed._record order by landed._record) as records,
    sum(count(*) - 1) over () as surplus_rows
from landed
group by ${key_columns}
having count(*) > 1
order by min(landed._record)
limit $sample_size
