"""The deployed webserver in a real browser: the asset lineage and the report's chart.

Headless Chromium (Debian's ``chromium`` package, driven by Playwright with its executable at
/usr/bin/chromium; Playwright's own browser download is never used) opens the webserver of a stack
started by ``python -m deploy.stack``, after the whole pipeline has been materialized for 2013 through
GraphQL. Screenshots are saved under pipeline_tests/artifacts/ for a person (or CI) to look at.
"""

from __future__ import annotations

import base64
import struct
import time
from pathlib import Path
from urllib.parse import quote

import duckdb
import pytest

from pipeline import constants
from pipeline.definitions import defs
from pipeline.defs.raw import seed as landing_seed
from pipeline.defs.reports.assets import CHART_FILE_NAME
from pipeline_tests.stack_harness import REPOSITORY_SELECTOR, running_stack

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
REPORT_KEY = ("reports", "carrier_on_time")
YEAR = {
    "dagster/asset_partition_range_start": "2013-01-01",
    "dagster/asset_partition_range_end": "2013-12-01",
}
IN_PROCESS = {"execution": {"config": {"in_process": {}}}}
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
pytestmark = [
    pytest.mark.integration,
    pytest.mark.needs_chromium,
]

SENSORS = """
query Sensors($selector: RepositorySelector!) {
  repositoryOrError(repositorySelector: $selector) {
    ... on Repository { sensors { name sensorType sensorState { status } } }
  }
}
"""


@pytest.fixture(scope="module")
def materialized_stack(tmp_path_factory, postgres_server):
    with running_stack(tmp_path_factory.mktemp("browser")) as handle:
        # The run below loads the landing folder itself; sensors acting on the same files would
        # only queue duplicate work.
        for sensor in handle.graphql(SENSORS, {"selector": REPOSITORY_SELECTOR})["repositoryOrError"][
            "sensors"
        ]:
            if sensor["sensorType"] != "RUN_STATUS" and sensor["sensorState"]["status"] == "RUNNING":
                handle.stop_sensor(sensor["name"])
        landing_seed.seed(handle.landing_dir)
        asset_graph = defs.resolve_asset_graph()
        asset_keys = [
            tuple(key.path)
            for key in asset_graph.get_all_asset_keys()
            if asset_graph.get(key).is_materializable
        ]
        run_id = handle.launch_run("__ASSET_JOB", asset_keys, tags=YEAR, run_config=IN_PROCESS)
        (run,) = handle.wait_for_runs(run_ids=[run_id], timeout=300)
        assert run["status"] == "SUCCESS", handle.stack.log_tail("code-server")
        yield handle


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    # Tall enough for the whole lineage graph to fit at its initial zoom.
    context = browser.new_context(viewport={"width": 1600, "height": 1400})
    page = context.new_page()
    yield page
    context.close()


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", data[16:24])


def live_status_keys(response) -> set[tuple[str, ...]]:
    """Asset keys that a live-status answer of the webserver reports as materialized."""
    if "AssetGraphLiveQuery" not in (response.request.post_data or ""):
        return set()
    return {
        tuple(node["assetKey"]["path"])
        for node in response.json()["data"]["assetNodes"]
        if node["assetMaterializations"]
    }


def label_fits(label: str, name: str) -> bool:
    """The graph shortens long names around an ellipsis: ``carri…_performance``."""
    if "…" not in label:
        return label == name
    head, tail = label.split("…", 1)
    return name.startswith(head) and name.endswith(tail) and len(name) > len(head) + len(tail)


def test_asset_lineage_shows_every_asset_of_every_layer(materialized_stack, page):
    asset_graph = defs.resolve_asset_graph()
    keys = asset_graph.get_all_asset_keys()
    groups = sorted({asset_graph.get(key).group_name for key in keys})
    expanded = ",".join(f"global@global:{group}" for group in groups)  # as the UI writes it
    url = materialized_stack.stack.settings.webserver_url
    # The graph paints the nodes first, then colours them as batches of their live status arrive.
    with_status: set[tuple[str, ...]] = set()
    page.on("response", lambda response: with_status.update(live_status_keys(response)))
    page.goto(f"{url}/asset-groups/?expanded={quote(expanded)}")
    graph = page.locator("[data-svg-viewport]")
    graph.get_by_text("carrier_on_time", exact=True).wait_for(timeout=60_000)
    # landing/zone is the folder itself: observed by the sensor, never materialized.
    materialized = {tuple(key.path) for key in keys if asset_graph.get(key).is_materializable}
    deadline = time.monotonic() + 60
    while not materialized <= with_status:
        assert time.monotonic() < deadline, f"not shown as materialized: {materialized - with_status}"
        page.wait_for_timeout(200)
    page.wait_for_timeout(500)  # let the last answer paint

    labels = graph.inner_text().splitlines()
    for group in groups:
        labels.remove(group)
    names = [key.path[-1] for key in keys]
    assert len(labels) == len(names), labels
    assert all(any(label_fits(label, name) for label in labels) for name in names), labels
    assert all(any(label_fits(label, name) for name in names) for label in labels), labels

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "asset_lineage.png")


def test_report_page_shows_the_chart(materialized_stack, page):
    url = materialized_stack.stack.settings.webserver_url
    page.goto(f"{url}/assets/{'/'.join(REPORT_KEY)}", wait_until="networkidle")
    metadata = page.locator("tr").filter(has=page.get_by_text("chart", exact=True))
    metadata.get_by_text("[Show Markdown]").click()
    chart = page.get_by_role("dialog").locator("img[src^='data:image/png;base64,']")
    chart.wait_for(timeout=60_000)

    # Decoded by the browser, not merely present in the markup, and the chart the asset wrote.
    embedded = base64.b64decode(chart.get_attribute("src").split(",", 1)[1])
    decoded = chart.evaluate("img => [img.complete, img.naturalWidth, img.naturalHeight]")
    assert decoded == [True, *png_size(embedded)]
    written = Path(materialized_stack.env[constants.REPORT_DIR_ENV]) / CHART_FILE_NAME
    assert embedded == written.read_bytes()

    ARTIFACTS.mkdir(exist_ok=True)
    chart.screenshot(path=ARTIFACTS / "report_chart.png")
    page.screenshot(path=ARTIFACTS / "report_chart_dialog.png")
    page.keyboard.press("Escape")
    flights_files = str(materialized_stack.landing_dir / "flights_*.csv")
    carriers, months = (
        duckdb.connect()
        .execute(
            "select count(distinct carrier), count(distinct month) from read_csv(?, header = true)",
            [flights_files],
        )
        .fetchone()
    )
    for label, value in (("carriers", carriers), ("months", months)):
        row = page.locator("tr").filter(has=page.get_by_text(label, exact=True))
        assert row.locator("td").last.inner_text().strip() == str(value)
    page.screenshot(path=ARTIFACTS / "report_page.png", full_page=True)


def test_staging_flights_page_describes_its_columns(materialized_stack, page):
    url = materialized_stack.stack.settings.webserver_url
    page.goto(f"{url}/assets/staging/flights", wait_until="networkidle")
    row = page.locator("tr").filter(has=page.get_by_text("dep_delay_minutes", exact=True)).first
    row.wait_for(timeout=60_000)
    assert "INTEGER" in row.inner_text()
    assert "Departure delay in minutes (negative: early); null when cancelled." in row.inner_text()
    row.scroll_into_view_if_needed()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "staging_flights_columns.png")


def test_a_mart_materialization_shows_each_columns_upstream_columns(materialized_stack, page):
    """Open-source Dagster 1.13 keeps ``dagster/column_lineage`` for features it does not ship (the
    graphical column lineage is Dagster+'s); the same lineage is readable in the materialization."""
    url = materialized_stack.stack.settings.webserver_url
    page.goto(f"{url}/assets/marts/carrier_monthly_performance?view=events", wait_until="networkidle")
    # A short markdown value is shown inline: its table's rows sit inside the metadata row's cell.
    lineage = page.locator("td tr")
    mean_delay = lineage.filter(has=page.get_by_text("mean_dep_delay_minutes", exact=True))
    mean_delay.wait_for(timeout=60_000)
    assert "staging/flights.dep_delay_minutes" in mean_delay.inner_text()
    carrier_name = lineage.filter(has=page.get_by_text("carrier_name", exact=True))
    assert "staging/airlines.carrier_name" in carrier_name.inner_text()
    on_time = lineage.filter(has=page.get_by_text("on_time_share", exact=True))
    assert "staging/flights.arr_delay_minutes" in on_time.inner_text()
    assert "staging/flights.is_cancelled" in on_time.inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "column_lineage.png")
