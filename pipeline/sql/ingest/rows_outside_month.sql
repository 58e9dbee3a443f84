-- How many parsed rows fall outside the month the file is named for, by the month they claim.
select strftime(month_start, '%Y-%m') as claimed_month, count(*) as row_count
from (select date_trunc('month', try(make_date(year, month, day))) as month_start from landed)
where month_start is distinct from $month_start
group by month_start
order by row_count desc
