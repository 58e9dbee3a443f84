"""The report: a PNG chart under the report folder and a summary the UI shows in the asset's page."""

import base64

import dagster as dg
import pytest

REPORT_KEY = dg.AssetKey(["reports", "carrier_on_time"])
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def report_metadata(built_warehouse):
    events = built_warehouse["result"].get_asset_materialization_events()
    (event,) = [e for e in events if e.asset_key == REPORT_KEY]
    return event.materialization.metadata


def test_chart_is_written_as_png(built_warehouse, report_metadata):
    chart = built_warehouse["root"] / "reports" / "carrier_on_time.png"
    assert chart.read_bytes().startswith(PNG_SIGNATURE)
    assert report_metadata["chart_path"].value == str(chart)


def test_chart_is_embedded_in_the_asset_metadata(built_warehouse, report_metadata):
    markdown = report_metadata["chart"].value
    prefix = "data:image/png;base64,"
    embedded = markdown[markdown.index(prefix) + len(prefix) : markdown.rindex(")")]
    chart = built_warehouse["root"] / "reports" / "carrier_on_time.png"
    assert base64.b64decode(embedded) == chart.read_bytes()


def test_summary_lists_every_carrier_best_first(report_metadata, warehouse_conn):
    rows = [line for line in report_metadata["summary"].value.splitlines()[2:] if line.startswith("| ")]
    assert len(rows) == report_metadata["carriers"].value == 16
    shares = [float(row.split("|")[5].strip().rstrip("%")) for row in rows]
    assert shares == sorted(shares, reverse=True)
    # Delta's yearly on-time share, recomputed from staging
    delta = warehouse_conn.execute(
        """
        select count(*) filter (where arr_delay_minutes <= 15) / count(*) filter (where not is_cancelled)
        from staging.flights where carrier = 'DL'
        """
    ).fetchall()[0][0]
    (delta_row,) = [row for row in rows if row.startswith("| DL |")]
    assert f"{delta:.1%}" in delta_row
    assert "48,110" in delta_row
