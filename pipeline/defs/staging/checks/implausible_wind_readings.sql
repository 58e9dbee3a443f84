-- Weather observations in the run's months ($months; null: every month) with wind above
-- $max_speed mph or gusts above $max_gust mph: how many, and the first $sample_size of them.
with implausible as (
    select
        origin,
        observed_at,
        wind_speed_mph,
        wind_gust_mph,
        _source_file
    from staging.weather
    where
        ($months is null or date_trunc('month', observation_date)::date = any($months))
        and (wind_speed_mph > $max_speed or wind_gust_mph > $max_gust)
)

select
    count(*) as failing_rows,
    list_slice(list(implausible order by observed_at, origin), 1, $sample_size) as sample
from implausible
