"""Group "reports": the monthly on-time chart by carrier, shown in the asset's page in the UI.

pandas, numpy and matplotlib are imported when the report is built, not when the code location loads.
"""

import base64
import io
from typing import TYPE_CHECKING

import dagster as dg

from pipeline.automation.conditions import refresh_with_landed_months
from pipeline.defs.marts.tables import CARRIER_MONTHLY_PERFORMANCE
from pipeline.defs.reports.store import ReportStore
from pipeline.warehouse.resources import Warehouse
from pipeline.warehouse.versions import fingerprint

if TYPE_CHECKING:
    import pandas as pd

CHART_FILE_NAME = "carrier_on_time.png"
# A share over fewer departed flights than this is noise (SkyWest: 32 flights all year); the chart
# shows the count in such a cell instead of a colour.
MIN_DEPARTED_FOR_SHARE = 20


def carrier_summary(performance: "pd.DataFrame") -> "pd.DataFrame":
    """One row per carrier for the year: flights, cancellation rate, on-time share, best and worst month."""
    departed = performance["flights"] - performance["cancelled_flights"]
    on_time_flights = performance["on_time_share"].fillna(0) * departed
    frame = performance.assign(departed=departed, on_time_flights=on_time_flights)
    by_carrier = frame.groupby(["carrier", "carrier_name"], as_index=False).agg(
        flights=("flights", "sum"),
        cancelled_flights=("cancelled_flights", "sum"),
        departed=("departed", "sum"),
        on_time_flights=("on_time_flights", "sum"),
    )
    best = frame.loc[frame.groupby("carrier")["on_time_share"].idxmax(), ["carrier", "month"]]
    worst = frame.loc[frame.groupby("carrier")["on_time_share"].idxmin(), ["carrier", "month"]]
    summary = by_carrier.assign(
        cancellation_rate=by_carrier["cancelled_flights"] / by_carrier["flights"],
        on_time_share=by_carrier["on_time_flights"] / by_carrier["departed"],
    )
    summary = summary.merge(best.rename(columns={"month": "best_month"}), on="carrier")
    summary = summary.merge(worst.rename(columns={"month": "worst_month"}), on="carrier")
    return summary[
        [
            "carrier",
            "carrier_name",
            "flights",
            "cancellation_rate",
            "on_time_share",
            "best_month",
            "worst_month",
        ]
    ].sort_values("on_time_share", ascending=False, ignore_index=True)


def _summary_markdown(summary: "pd.DataFrame") -> str:
    import pandas as pd

    lines = [
        "| Carrier | Airline | Flights | Cancelled | On time | Best month | Worst month |",
        "| --- | --- | ---: | ---: | ---: | --- | --- |",
    ]
    for row in summary.itertuples(index=False):
        lines.append(
            f"| {row.carrier} | {row.carrier_name} | {row.flights:,} | {row.cancellation_rate:.1%} "
            f"| {row.on_time_share:.1%} | {pd.Timestamp(row.best_month):%b} "
            f"| {pd.Timestamp(row.worst_month):%b} |"
        )
    return "\n".join(lines)


def _render_chart(performance: "pd.DataFrame", summary: "pd.DataFrame") -> bytes:
    """Heatmap of on-time share, carriers (best first) by month, each cell labelled."""
    # Imported here, not with the module: matplotlib is ~0.6 s of every code-location load, and
    # only this step draws. A bare Figure renders with Agg and needs no pyplot or display.
    import numpy as np
    import pandas as pd
    from matplotlib.figure import Figure

    order = summary["carrier"].tolist()
    shares = performance.pivot(index="carrier", columns="month", values="on_time_share").reindex(order)
    labels = [
        f"{row.carrier_name.removesuffix(' Inc.').removesuffix(' Co.')} ({row.carrier}) · {row.flights:,}"
        for row in summary.itertuples(index=False)
    ]
    figure = Figure(figsize=(12, 0.42 * len(order) + 1.8), dpi=100)
    axes = figure.subplots()
    departed = (
        performance.assign(departed=performance["flights"] - performance["cancelled_flights"])
        .pivot(index="carrier", columns="month", values="departed")
        .reindex(index=order, columns=shares.columns)
        .fillna(0)
        .to_numpy()
    )
    values = shares.to_numpy(dtype=float)
    reliable = departed >= MIN_DEPARTED_FOR_SHARE
    image = axes.imshow(
        np.where(reliable, values * 100, np.nan), cmap="RdYlGn", vmin=40, vmax=100, aspect="auto"
    )
    for row, column in np.ndindex(values.shape):
        if reliable[row, column]:
            axes.text(column, row, f"{values[row, column]:.0%}", ha="center", va="center", fontsize=8)
        elif departed[row, column] > 0:
            axes.text(
                column,
                row,
                f"n={departed[row, column]:.0f}",
                ha="center",
                va="center",
                fontsize=7,
                color="dimgray",
            )
    figure.text(
        0.01,
        0.005,
        f"Cells with fewer than {MIN_DEPARTED_FOR_SHARE} departed flights show the count (n), not a share. "
        "Labels: airline (code) · flights in 2013.",
        fontsize=8,
        color="dimgray",
    )
    axes.set_xticks(range(len(shares.columns)), [f"{pd.Timestamp(m):%b}" for m in shares.columns])
    axes.set_yticks(range(len(order)), labels, fontsize=9)
    axes.set_title("Share of departed flights arriving within 15 minutes of schedule — NYC, 2013")
    colorbar = figure.colorbar(image, ax=axes, fraction=0.025, pad=0.01)
    colorbar.set_label("on time (%)")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


REPORT_KEY = dg.AssetKey(["reports", "carrier_on_time"])


@dg.asset(
    key=REPORT_KEY,
    group_name="reports",
    kinds={"matplotlib", "png"},
    deps=[CARRIER_MONTHLY_PERFORMANCE.asset_key],
    automation_condition=refresh_with_landed_months(),
)
def carrier_on_time_report(warehouse: Warehouse, report_store: ReportStore) -> dg.MaterializeResult:
    """Chart and table of monthly on-time performance by carrier, written as a PNG."""
    # Read and written under the report's write lock: two runs refreshing the report do it one
    # after the other, so the chart left in place is drawn from the newer mart.
    with warehouse.exclusive(".".join(REPORT_KEY.path)) as conn:
        performance = conn.execute(f"select * from {CARRIER_MONTHLY_PERFORMANCE.qualified_name}").fetchdf()
        mart_version = fingerprint(conn, CARRIER_MONTHLY_PERFORMANCE.qualified_name)
        summary = carrier_summary(performance)
        png = _render_chart(performance, summary)
        report_store.root.mkdir(parents=True, exist_ok=True)
        chart_path = report_store.root / CHART_FILE_NAME
        partial = chart_path.with_name(chart_path.name + ".part")
        partial.write_bytes(png)
        partial.replace(chart_path)

    embedded = base64.b64encode(png).decode()
    return dg.MaterializeResult(
        metadata={
            "chart": dg.MetadataValue.md(
                f"![On-time performance by carrier](data:image/png;base64,{embedded})"
            ),
            "summary": dg.MetadataValue.md(_summary_markdown(summary)),
            "chart_path": dg.MetadataValue.path(str(chart_path)),
            "carriers": len(summary),
            "months": int(performance["month"].nunique()),
            "mart_version": mart_version,
        }
    )
