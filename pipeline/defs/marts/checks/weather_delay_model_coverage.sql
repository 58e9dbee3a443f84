-- Origin and factor pairs where marts.weather_delay_model does not match staging: missing, or
-- fitted on more flights than departed from the origin with a reported delay.
with expected as (
    select
        origin,
        unnest($factors) as factor,
        count(*) filter (where dep_delay_minutes is not null) as delayed_flights
    from staging.flights
    group by origin
)

select
    coalesce(expected.origin, model.origin) as origin,
    coalesce(expected.factor, model.factor) as factor,
    model.flights as model_flights,
    expected.delayed_flights,
    case
        when model.origin is null then 'missing from the model'
        when expected.origin is null then 'not an origin in staging.flights'
        else 'fitted on more flights than departed with a delay'
    end as problem
from expected
full outer join marts.weather_delay_model as model using (origin, factor)
where model.origin is null or expected.origin is null or model.flights > expected.delayed_flights
order by origin, factor
