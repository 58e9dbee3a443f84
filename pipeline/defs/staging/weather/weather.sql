-- Hourly weather per origin airport for the months in [$window_start, $window_end).
-- year/month/day/hour are local (America/New_York); time_hour is the same hour in UTC.
select
    origin,
    make_date(year, month, day) as observation_date,
    hour as local_hour,
    cast(time_hour as timestamptz) as observed_at,
    temp as temperature_f,
    dewp as dew_point_f,
    humid as relative_humidity,
    wind_dir as wind_direction_deg,
    wind_speed as wind_speed_mph,
    wind_gust as wind_gust_mph,
    precip as precipitation_in,
    pressure as pressure_mbar,
    visib as visibility_miles,
    _source_file,
    _loaded_at
from raw.weather
where
    make_date(year, month, day) >= $window_start
    and make_date(year, month, day) < $window_end
