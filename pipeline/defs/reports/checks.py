"""Checks on the report: the chart is a readable PNG covering every carrier and month of the mart."""

import struct

import dagster as dg

from pipeline.defs.marts.tables import CARRIER_MONTHLY_PERFORMANCE
from pipeline.defs.reports.assets import CHART_FILE_NAME, carrier_on_time_report
from pipeline.defs.reports.store import ReportStore
from pipeline.warehouse.checks import result, rows, version_read
from pipeline.warehouse.connection import read_sql
from pipeline.warehouse.resources import Warehouse

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _png_size(path) -> tuple[int, int] | None:
    """Width and height from a PNG's header, or None when the file is not a PNG."""
    with open(path, "rb") as handle:
        head = handle.read(24)
    if len(head) < 24 or not head.startswith(PNG_SIGNATURE) or head[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", head[16:24])


@dg.asset_check(
    asset=carrier_on_time_report,
    name="chart_matches_mart",
    additional_deps=[CARRIER_MONTHLY_PERFORMANCE.asset_key],
    description=(
        "ERROR, not blocking (nothing is downstream): the chart file is a readable PNG and the last "
        "report covered every carrier and month in marts/carrier_monthly_performance. A failure "
        "means readers see a broken or partial report."
    ),
)
def chart_matches_mart(
    context: dg.AssetCheckExecutionContext, warehouse: Warehouse, report_store: ReportStore
) -> dg.AssetCheckResult:
    chart = report_store.root / CHART_FILE_NAME
    size = _png_size(chart) if chart.is_file() else None
    event = context.instance.get_latest_materialization_event(carrier_on_time_report.key)
    reported = event.asset_materialization.metadata if event and event.asset_materialization else {}
    with warehouse.connect(read_only=True) as conn:
        [expected] = rows(conn, read_sql("reports", "checks/mart_carriers_and_months"))
        read = version_read(conn, context.instance, CARRIER_MONTHLY_PERFORMANCE)
    found = {name: reported[name].value if name in reported else None for name in expected}
    problems = []
    if not chart.is_file():
        problems.append(f"{chart} does not exist")
    elif size is None:
        problems.append(f"{chart} is not a PNG image")
    problems += [
        f"the report covered {found[name]} {name}, the mart has {expected[name]}"
        for name in expected
        if found[name] != expected[name]
    ]
    return result(
        passed=not problems,
        description=(
            "; ".join(problems) + "."
            if problems
            else f"{chart.name} shows {expected['carriers']} carriers over {expected['months']} months."
        ),
        failing_rows=len(problems),
        sample=[{"problem": problem} for problem in problems],
        chart_path=dg.MetadataValue.path(str(chart)),
        chart_size_px=dg.MetadataValue.json(list(size) if size else None),
        mart_version_drawn=reported["mart_version"].value if "mart_version" in reported else "unknown",
        **{f"mart_{name}": value for name, value in read.items()},
    )


asset_checks = [chart_matches_mart]
