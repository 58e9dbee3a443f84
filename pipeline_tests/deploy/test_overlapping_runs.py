"""Overlapping month runs on the production stack with the DuckDB file end as if run one at a time.

``python -m deploy.stack up`` on the default file backend and a PostgreSQL instance (the run queue
admits two runs at once), sensors stopped: ``full_refresh``, then three rounds in which six months
are re-delivered with a few hundred rows fewer and their ``monthly_refresh`` runs are launched
through GraphQL 0–10 s apart, in an order shuffled per round but the same on every machine
(pipeline_tests/overlap.py). No run may fail; after every round each mart equals its SQL run over
staging as it is then, and raw and staging flights per month equal the landed files; at the end
the marts equal those of a second warehouse that ``full_refresh`` builds in this process from the
same files. Issue #20: before write–audit–publish, runs failed on ``reconciles_with_staging``.

The test prints ``duckdb: N overlapping runs tried, M failed`` (shown with ``-s`` or ``-rP``).
"""

from __future__ import annotations

import pytest

from pipeline.defs.raw import seed as landing_seed
from pipeline.warehouse import connection
from pipeline_tests import overlap
from pipeline_tests.stack_harness import running_stack
from pipeline_tests.support import ALL_MONTHS

ROUNDS = 3


@pytest.fixture(scope="module")
def file_stack(tmp_path_factory, postgres_server):
    with running_stack(tmp_path_factory.mktemp("overlap")) as handle:
        handle.stop_running_sensors()  # the runs here are launched explicitly
        yield handle


@pytest.mark.integration
def test_overlapping_month_runs_end_as_if_run_one_at_a_time_on_the_file(file_stack, tmp_path):
    handle = file_stack
    landing_seed.seed(handle.landing_dir)
    (first,) = handle.wait_for_runs(run_ids=[handle.launch_run("full_refresh", tags=ALL_MONTHS)], timeout=900)
    assert first["status"] == "SUCCESS", overlap.failure_reasons(handle, first["runId"])

    def read():
        return connection.connect(handle.warehouse_path, read_only=True)

    tally = overlap.Tally("duckdb")
    try:
        overlap.overlapping_rounds(handle, read, tally, rounds=ROUNDS)
    finally:
        print(tally.summary(), *tally.failures, sep="\n")

    fresh = overlap.fresh_full_refresh(handle.landing_dir, tmp_path / "fresh")
    with read() as conn:
        ours = overlap.marts_contents(conn)
    with connection.connect(fresh, read_only=True) as conn:
        rebuilt = overlap.marts_contents(conn)
    differences = {
        name: d for name in overlap.MARTS if (d := overlap.rows_differences(ours[name], rebuilt[name]))
    }
    assert not differences, f"the marts differ from a fresh full_refresh of the same files: {differences}"
    assert not tally.failures, tally.summary() + ":\n" + "\n".join(tally.failures)
