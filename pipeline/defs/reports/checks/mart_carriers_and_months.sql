-- The carriers and months marts/carrier_monthly_performance covers: what the report must show.
select
    count(distinct carrier) as carriers,
    count(distinct month) as months
from marts.carrier_monthly_performance
