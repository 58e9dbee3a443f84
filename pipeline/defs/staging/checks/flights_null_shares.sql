-- Per month of the run ($months; null: every month), the flights and the share of them with a
-- null in each chosen column (${columns}), named after it.
with chosen as (
    select
        date_trunc('month', flight_date)::date as month,
        ${columns}
    from staging.flights
    where $months is null or date_trunc('month', flight_date)::date = any($months)
)

select
    month,
    count(*) as flights,
    avg((columns(* exclude (month)) is null)::int)
from chosen
group by month
order by month
