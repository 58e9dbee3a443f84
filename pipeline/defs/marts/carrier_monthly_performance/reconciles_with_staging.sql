-- Flights and cancellations per carrier and month: the mart against a recount from staging.
-- One row per carrier and month where they differ (or that only one side has).
with staged as (
    select
        carrier,
        date_trunc('month', flight_date)::date as month,
        count(*) as flights,
        count(*) filter (where is_cancelled) as cancelled_flights
    from staging.flights
    group by all
),

mart as (
    select
        carrier,
        month::date as month,
        flights,
        cancelled_flights
    from marts.carrier_monthly_performance
)

select
    carrier,
    month,
    staged.flights as staging_flights,
    mart.flights as mart_flights,
    staged.cancelled_flights as staging_cancelled,
    mart.cancelled_flights as mart_cancelled
from staged
full outer join mart using (carrier, month)
where
    abs(coalesce(staged.flights, 0) - coalesce(mart.flights, 0)) > $tolerance
    or abs(coalesce(staged.cancelled_flights, 0) - coalesce(mart.cancelled_flights, 0)) > $tolerance
order by carrier, month
