"""A newcomer's first minutes: the quick start's summary (``python -m deploy.launch``) and ``dg dev``
started the README's way.

``deploy.launch`` runs for real (``dg launch`` of January's ``monthly_refresh``, on a temporary
instance, warehouse and landing folder): one line per asset and no event stream when the run
succeeds; the failing step with its error, naming the rejected file, and a non-zero exit when it
fails. ``dg dev`` runs in a folder standing in for the repository root (its dagster.yaml and
workspace.yaml) with DAGSTER_HOME set to it, as the README says: no warning that the dagster.yaml
is unused, and the instance's storage lands under the git-ignored ``.dagster_home/``.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from deploy import processes
from pipeline.definitions import defs
from pipeline_tests.processes import PROJECT_ROOT, dagster_home, server_environment, wait_for_port
from pipeline_tests.support import landing_with

pytestmark = pytest.mark.integration

JANUARY = ("airlines.csv", "airports.csv", "planes.csv", "flights_2013-01.csv", "weather_2013-01.csv")
MONTHLY_ASSETS = ("raw/flights", "raw/weather", "staging/flights", "staging/weather")
UI_URL = "http://127.0.0.1:3000"
UNUSED_CONFIG_WARNING = "will not be used to configure Dagster"


def launch_january(tmp_path: Path, landing: Path) -> subprocess.CompletedProcess:
    env = server_environment(
        tmp_path, dagster_home=dagster_home(tmp_path / "dagster_home"), LANDING_DIR=landing
    )
    command = [sys.executable, "-m", "deploy.launch", "--job", "monthly_refresh", "--partition", "2013-01-01",
               "--ui-url", UI_URL]  # fmt: skip
    return subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=600)


def test_a_run_prints_one_line_per_asset_its_result_and_the_chart(tmp_path, seeded_landing):
    done = launch_january(tmp_path, landing_with(tmp_path, seeded_landing, *JANUARY))

    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    assert "DEBUG" not in done.stdout + done.stderr
    lines = done.stdout.splitlines()
    run_id = re.fullmatch(r"Run (\S+) of monthly_refresh for partition 2013-01-01 started", lines[0])[1]
    asset_lines = [line.split() for line in lines if line.startswith("  done  ")]
    expected = defs.resolve_job_def("monthly_refresh").asset_layer.selected_asset_keys
    assert sorted(words[1] for words in asset_lines) == sorted(key.to_user_string() for key in expected)
    partitioned = {words[1]: words[2] for words in asset_lines if len(words) == 5}
    assert partitioned == dict.fromkeys(MONTHLY_ASSETS, "2013-01-01")
    assert all(line.startswith(("  done  ", "  check failed (warn): ")) for line in lines[1:-3])
    result, chart, ui = lines[-3:]
    # Two checks find what the source lacks (airports only the reference supplement knows): warnings.
    assert re.fullmatch(
        rf"Run {run_id} succeeded in \d+ s: {len(expected)} assets materialized, \d+ checks passed, "
        r"(\d+) failed \(\1 warn\)\.",
        result,
    )
    assert chart == f"Chart: {tmp_path / 'reports' / 'carrier_on_time.png'}"
    assert (tmp_path / "reports" / "carrier_on_time.png").stat().st_size > 0
    assert ui == f"Every event of the run: {UI_URL}/runs/{run_id}"


def test_a_failed_run_names_the_step_and_the_rejected_file_and_exits_non_zero(tmp_path, seeded_landing):
    landing = landing_with(tmp_path, seeded_landing, *JANUARY)
    flights = landing / "flights_2013-01.csv"
    header, first, rest = flights.read_text().split("\n", 2)
    flights.write_text("\n".join([header, first.replace(",830,", ",8:30,", 1), rest]))

    done = launch_january(tmp_path, landing)

    assert done.returncode == 1
    assert "DEBUG" not in done.stdout + done.stderr
    lines = done.stdout.splitlines()
    failed = lines.index("  FAILED raw/flights:")
    assert lines[failed + 1] == f"      {flights} was rejected (1 problem):"
    assert lines[failed + 2].startswith("        - line 2, column arr_time: value '8:30'")
    assert re.fullmatch(
        r"Run \S+ FAILED after \d+ s \(FAILURE; failed: raw/flights\); \d+ checks passed\.", lines[-2]
    )
    assert not any(line.startswith("Chart: ") for line in lines)


def test_dg_dev_started_the_readme_way_uses_dagster_yaml_without_a_warning(tmp_path):
    """``export DAGSTER_HOME=$PWD`` then ``dg dev -w workspace.yaml``, in a stand-in for the root."""
    root = tmp_path / "repository"
    root.mkdir()
    for name in ("dagster.yaml", "workspace.yaml"):
        (root / name).symlink_to(PROJECT_ROOT / name)
    env = server_environment(tmp_path / "data", dagster_home=root)
    port, log = processes.free_port(), tmp_path / "dg_dev.log"
    command = [str(Path(sys.executable).parent / "dg"), "dev", "-w", "workspace.yaml",
               "--host", processes.LOOPBACK, "--port", str(port)]  # fmt: skip
    server = processes.start(command, log=log, cwd=root, env=env)
    try:
        wait_for_port(server, port, log, timeout=180)
    finally:
        processes.stop(server, grace=30, ports=[port])

    output = log.read_text()
    assert "Serving dagster-webserver" in output
    assert UNUSED_CONFIG_WARNING not in output
    # Whatever its wording, dagster dev warns about its configuration before it starts the services.
    assert "WARNING" not in output.split("Launching Dagster services")[0]
    assert (root / ".dagster_home" / "history" / "runs.db").is_file()
    created = sorted(path.name + "/" * path.is_dir() for path in root.iterdir() if not path.is_symlink())
    ignored = subprocess.run(["git", "check-ignore", "--no-index", *created], cwd=PROJECT_ROOT,
                             capture_output=True, text=True).stdout.split()  # fmt: skip
    assert ignored == created, "every folder dg dev creates beside dagster.yaml is git-ignored"
