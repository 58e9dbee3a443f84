"""The pure parts of ``python -m bench.concurrency``: its arguments, the order of the phases, wall
times from the runs' recorded ends, and the parallel/serial ratio. The stack itself is not started
here (the stress tests in pipeline_tests/deploy/ run the same launches); timings are never asserted.
"""

from __future__ import annotations

import pytest

from bench import concurrency


def test_defaults_are_one_round_of_six_months_on_the_file():
    args = concurrency.parse_args([])
    assert (args.backend, args.rounds, args.months) == ("duckdb", 1, 6)
    args = concurrency.parse_args(["--backend", "ducklake", "--rounds", "3", "--months", "2"])
    assert (args.backend, args.rounds, args.months) == ("ducklake", 3, 2)


@pytest.mark.parametrize(
    "argv", [["--backend", "sqlite"], ["--rounds", "0"], ["--months", "0"], ["--months", "7"]]
)
def test_arguments_out_of_range_are_refused(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        concurrency.parse_args(argv)
    assert exit_info.value.code == 2
    assert "python -m bench.concurrency" in capsys.readouterr().err


def test_rounds_alternate_which_phase_goes_first():
    assert [concurrency.phase_order(n) for n in (1, 2, 3)] == [
        ("parallel", "serial"),
        ("serial", "parallel"),
        ("parallel", "serial"),
    ]


@pytest.mark.parametrize(
    ("parallel", "serial", "expected"), [(44.0, 58.0, 0.7586), (60.0, 60.0, 1.0), (0.0, 1.0, 0.0)]
)
def test_ratio_is_parallel_over_serial(parallel, serial, expected):
    assert concurrency.ratio(parallel, serial) == pytest.approx(expected, abs=1e-4)


@pytest.mark.parametrize(("parallel", "serial"), [(10.0, 0.0), (-1.0, 5.0)])
def test_ratio_refuses_wall_times_that_cannot_be(parallel, serial):
    with pytest.raises(ValueError, match="positive"):
        concurrency.ratio(parallel, serial)


def test_wall_time_runs_from_the_first_launch_to_the_last_end():
    runs = [{"endTime": 1_000.0 + 30}, {"endTime": 1_000.0 + 44}, {"endTime": 1_000.0 + 12}]
    assert concurrency.wall_seconds(runs, launched_at=1_000.0) == 44.0
    with pytest.raises(ValueError, match="ended"):
        concurrency.wall_seconds([{"endTime": None}], launched_at=1_000.0)


def test_totals_sum_both_phases_over_the_rounds():
    rounds = [
        {
            "parallel": {"seconds": 40.0, "runs": 6, "failed": 1},
            "serial": {"seconds": 60.0, "runs": 6, "failed": 0},
        },
        {
            "parallel": {"seconds": 50.0, "runs": 6, "failed": 0},
            "serial": {"seconds": 60.0, "runs": 6, "failed": 0},
        },
    ]
    assert concurrency.totals(rounds) == {
        "parallel_seconds": 90.0,
        "parallel_runs": 12,
        "parallel_failed": 1,
        "serial_seconds": 120.0,
        "serial_runs": 12,
        "serial_failed": 0,
        "ratio_parallel_to_serial": 0.75,
    }
