"""Table and column lineage derived from the warehouse's SQL with sqlglot (issues #13 and #22).

Tiny SQL strings pin down each construct; the project's staging and mart SQL, read against the
columns of a built warehouse, must give every output column a lineage (or be allow-listed with a
reason), and selected columns must have exactly the inputs that reading the SQL shows. The SQL
files read are those the staging and mart assets link to, each asset depends on exactly the
tables its SQL reads, and the graph-backed weather model's lineage runs through its moments.
"""

import functools
import re
from collections.abc import Callable
from pathlib import Path

import dagster as dg
import pytest

import pipeline
from pipeline.definitions import defs
from pipeline.defs.marts import tables as marts
from pipeline.defs.marts.weather_delay_model import model_column_lineage
from pipeline.warehouse.lineage import (
    LineageError,
    column_lineage,
    column_lineage_metadata,
    table_column_lineage,
    tables_read,
)

PIPELINE_DIR = Path(pipeline.__file__).parent
REPOSITORY_DIR = PIPELINE_DIR.parent
LAYERS = ("staging", "marts")

TINY_SOURCES = {
    "raw.orders": ["order_id", "customer_id", "amount", "status", "ordered_at"],
    "raw.customers": ["customer_id", "name", "country"],
    "raw.refunds": ["order_id", "amount", "refunded_at"],
}

# Output columns that honestly read no source column, by (layer/file, column), with the reason.
COUNTS_ROWS = "count(*) counts rows; it reads no column"
NO_SOURCE_COLUMN = {
    ("marts/carrier_monthly_performance.sql", "flights"): COUNTS_ROWS,
    ("marts/fleet_performance.sql", "flights"): COUNTS_ROWS,
    ("marts/route_performance.sql", "flights"): COUNTS_ROWS,
    ("marts/weather_impact.sql", "flights"): COUNTS_ROWS,
    (
        "marts/weather_impact.sql",
        "factor",
    ): "a constant label per union branch ('precipitation', ...)",
    ("marts/weather_delay_moments.sql", "n"): COUNTS_ROWS,
}


def sql_files(layer: str) -> list[Path]:
    """The layer's SQL files: pipeline/defs/<layer>/*.sql and each table folder's <table>/<table>.sql."""
    folders = [path for path in PIPELINE_DIR.glob(f"defs/{layer}/*/*.sql") if path.stem == path.parent.name]
    return sorted([*PIPELINE_DIR.glob(f"defs/{layer}/*.sql"), *folders])


def layer_file(path: Path) -> str:
    """``marts/fleet_performance.sql``: the layer and name of a SQL file, in a table folder or not."""
    return f"{path.relative_to(PIPELINE_DIR / 'defs').parts[0]}/{path.name}"


def sql_file(layer: str, name: str) -> Path:
    (path,) = [path for path in sql_files(layer) if path.stem == name]
    return path


def asset_sql_files() -> dict[dg.AssetKey, Path]:
    """The SQL file each staging and mart asset of the code location links to, by asset key."""
    linked = {}
    for spec in defs.resolve_all_asset_specs():
        if spec.key.path[0] in LAYERS:
            references = spec.metadata["dagster/code_references"].code_references
            (path,) = [Path(ref.file_path) for ref in references if ref.file_path.endswith(".sql")]
            linked[spec.key] = path
    return linked


ASSET_SQL = asset_sql_files()


def lineage_of(path: Path, sources: dict[str, list[str]]) -> dict[str, list[tuple[str, str]]]:
    return column_lineage(path.read_text(), sources, sql_file=str(path.relative_to(REPOSITORY_DIR)))


@pytest.fixture(scope="module")
def warehouse_columns(warehouse_conn) -> dict[str, list[str]]:
    """Every table of the built warehouse, as "schema.table", with its columns in order."""
    rows = warehouse_conn.execute(
        "select table_schema || '.' || table_name, column_name from information_schema.columns "
        "order by table_schema, table_name, ordinal_position"
    ).fetchall()
    columns: dict[str, list[str]] = {}
    for table, column in rows:
        columns.setdefault(table, []).append(column)
    return columns


@pytest.fixture(scope="module")
def project_lineage(warehouse_columns) -> Callable[[Path], dict[str, list[tuple[str, str]]]]:
    """``lineage_of`` a project SQL file against the built warehouse, derived once per file: several
    tests read the same file's lineage, and sqlglot takes a noticeable time per file."""
    return functools.cache(lambda path: lineage_of(path, warehouse_columns))


# --- the constructs, on tiny SQL ---------------------------------------------------------------


def tiny(sql: str) -> dict[str, list[tuple[str, str]]]:
    return column_lineage(sql, TINY_SOURCES, sql_file="tiny.sql")


def test_star_expands_to_every_column_except_excluded_and_replaced_ones():
    assert tiny("select * exclude (status, ordered_at) replace (amount * 2 as amount) from raw.orders") == {
        "order_id": [("raw.orders", "order_id")],
        "customer_id": [("raw.orders", "customer_id")],
        "amount": [("raw.orders", "amount")],
    }


def test_a_cte_chain_is_followed_to_the_source_columns():
    lineage = tiny(
        """
        with paid as (
            select order_id, customer_id, amount as paid_amount
            from raw.orders where status = 'paid'
        ),
        named as (
            select paid.*, customers.name
            from paid join raw.customers as customers using (customer_id)
        )
        select *, upper(name) || paid_amount as label from named
        """
    )
    assert lineage == {
        "order_id": [("raw.orders", "order_id")],
        "customer_id": [("raw.orders", "customer_id")],
        "paid_amount": [("raw.orders", "amount")],
        "name": [("raw.customers", "name")],
        "label": [("raw.customers", "name"), ("raw.orders", "amount")],
    }


def test_union_all_pairs_columns_by_position_and_union_by_name_by_name():
    positional = tiny(
        "select order_id, amount from raw.orders union all select order_id, amount from raw.refunds"
    )
    by_name = tiny(
        "select order_id, amount from raw.orders union all by name select amount, order_id from raw.refunds"
    )
    expected = {
        "order_id": [("raw.orders", "order_id"), ("raw.refunds", "order_id")],
        "amount": [("raw.orders", "amount"), ("raw.refunds", "amount")],
    }
    assert positional == by_name == expected


def test_case_conditions_filter_clauses_windows_and_scalar_subqueries_are_inputs():
    lineage = tiny(
        """
        select
            case when status = 'paid' then amount else 0 end as paid_amount,
            count(*) filter (where status = 'paid') as paid_orders,
            sum(amount) over (partition by customer_id) as customer_total,
            (select max(refunded_at) from raw.refunds) as last_refund
        from raw.orders
        where ordered_at > $since
        group by all
        """
    )
    assert lineage == {
        "paid_amount": [("raw.orders", "amount"), ("raw.orders", "status")],
        "paid_orders": [("raw.orders", "status")],
        "customer_total": [("raw.orders", "amount"), ("raw.orders", "customer_id")],
        "last_refund": [("raw.refunds", "refunded_at")],
    }


def test_columns_that_only_filter_join_or_group_rows_are_not_inputs():
    lineage = tiny(
        """
        select customers.country, count(*) as orders, current_timestamp as computed_at, $run as run
        from raw.orders as orders join raw.customers as customers using (customer_id)
        where orders.status = 'paid'
        group by customers.country
        """
    )
    assert lineage == {
        "country": [("raw.customers", "country")],
        "orders": [],
        "computed_at": [],
        "run": [],
    }


def test_a_file_read_adds_no_table_column():
    lineage = tiny(
        "select name from raw.customers union all by name "
        "select name from read_csv($path, columns = {'name': 'VARCHAR'})"
    )
    assert lineage == {"name": [("raw.customers", "name")]}


@pytest.mark.parametrize(
    ("sql", "column"),
    [
        pytest.param("select order_id, discount from raw.orders", "discount", id="unknown column"),
        pytest.param(
            "select amount from raw.orders join raw.refunds using (order_id)",
            "amount",
            id="ambiguous column",
        ),
        pytest.param("select * from raw.invoices", "*", id="star over a table not in sources"),
        pytest.param("select amount * 2 from raw.orders", "amount * 2", id="unnamed output"),
    ],
)
def test_an_unresolvable_column_raises_naming_the_column_and_the_file(sql, column):
    with pytest.raises(LineageError, match=rf"^tiny\.sql: .*'{re.escape(column)}'"):
        tiny(sql)


def test_sql_that_does_not_parse_raises_naming_the_file():
    with pytest.raises(LineageError, match=r"^tiny\.sql: "):
        tiny("select order_id from raw.orders where")


def test_union_by_name_of_different_columns_raises():
    with pytest.raises(LineageError, match=r"^tiny\.sql: .*by name"):
        tiny("select order_id, amount from raw.orders union all by name select order_id from raw.refunds")


def test_tables_read_names_every_table_but_not_ctes_or_files():
    sql = """
        with paid as (select * from raw.orders where status = 'paid'),
        refunded as (select order_id from raw.refunds)
        select paid.*, customers.name, (select max(amount) from raw.invoices) as largest_invoice
        from paid join raw.customers as customers using (customer_id)
        where paid.order_id not in (select order_id from refunded)
        union all by name
        select * from read_csv($path)
    """
    assert tables_read(sql, sql_file="tiny.sql") == {
        "raw.orders",
        "raw.refunds",
        "raw.customers",
        "raw.invoices",
    }


def test_tables_read_refuses_a_table_without_its_schema():
    with pytest.raises(LineageError, match=r"^tiny\.sql: reads \['orders'\] without a schema"):
        tables_read(
            "with paid as (select 1 as one) select * from paid join orders using (one)", sql_file="tiny.sql"
        )


def test_table_column_lineage_builds_dagsters_object():
    lineage = tiny("select order_id, amount + 1 as amount_plus_one, 1 as one from raw.orders")
    built = table_column_lineage(lineage, lambda table: dg.AssetKey(table.split(".")))
    assert built == dg.TableColumnLineage(
        deps_by_column={
            "order_id": [dg.TableColumnDep(asset_key=dg.AssetKey(["raw", "orders"]), column_name="order_id")],
            "amount_plus_one": [
                dg.TableColumnDep(asset_key=dg.AssetKey(["raw", "orders"]), column_name="amount")
            ],
            "one": [],
        }
    )


def test_column_lineage_metadata_keys_the_tables_assets_and_shows_a_table():
    metadata = column_lineage_metadata({"amount": [("raw.orders", "amount")], "one": []})
    assert metadata["dagster/column_lineage"] == dg.TableColumnLineage(
        deps_by_column={
            "amount": [dg.TableColumnDep(asset_key=dg.AssetKey(["raw", "orders"]), column_name="amount")],
            "one": [],
        }
    )
    assert "| amount | raw/orders.amount |" in metadata["column_lineage"].value


# --- the project's SQL, against the built warehouse's columns ----------------------------------


def test_the_sql_files_read_here_are_the_staging_and_mart_assets_sql():
    """Every staging and mart asset links to one SQL file found here, and every file found is one
    an asset runs: a table added with its SQL is read by the tests below without editing them."""
    staging_and_marts = {spec.key for spec in defs.resolve_all_asset_specs() if spec.key.path[0] in LAYERS}
    assert set(ASSET_SQL) == staging_and_marts
    assert set(ASSET_SQL.values()) == {path for layer in LAYERS for path in sql_files(layer)}


@pytest.mark.parametrize("key", sorted(ASSET_SQL), ids=lambda key: key.to_user_string())
def test_an_asset_depends_on_exactly_the_tables_its_sql_reads(key):
    path = ASSET_SQL[key]
    read = tables_read(path.read_text(), sql_file=str(path.relative_to(REPOSITORY_DIR)))
    assert defs.resolve_asset_graph().get(key).parent_keys == {
        dg.AssetKey(table.split(".")) for table in read
    }


def test_the_weather_delay_model_lineage_runs_through_its_moments_to_staging():
    fitted = [
        ("staging.flights", "dep_delay_minutes"),
        ("staging.weather", "precipitation_in"),
        ("staging.weather", "visibility_miles"),
        ("staging.weather", "wind_speed_mph"),
    ]
    lineage = model_column_lineage()
    assert list(lineage) == marts.WEATHER_DELAY_MODEL.column_names
    assert lineage == {
        "origin": [("staging.flights", "origin")],
        "factor": [],
        "minutes_per_unit": fitted,
        "unit": [],
        "baseline_minutes": fitted,
        "flights": [],  # n: count(*) of the fitted flights
        "r_squared": fitted,
    }


@pytest.mark.parametrize(
    ("layer", "name", "column", "expected"),
    [
        ("staging", "flights", "dep_delay_minutes", [("raw.flights", "dep_delay")]),
        (
            "staging",
            "flights",
            "sched_dep_at",
            [
                ("raw.flights", "day"),
                ("raw.flights", "month"),
                ("raw.flights", "sched_dep_time"),
                ("raw.flights", "year"),
                # the zone only picks the offset's row (a join), the offset is in the arithmetic
                ("staging.time_zone_offsets", "utc_offset_minutes"),
            ],
        ),
        (  # the next-day CASE compares with the scheduled departure, so its inputs count too
            "staging",
            "flights",
            "sched_arr_at",
            [
                ("raw.flights", "day"),
                ("raw.flights", "month"),
                ("raw.flights", "sched_arr_time"),
                ("raw.flights", "sched_dep_time"),
                ("raw.flights", "year"),
                ("staging.time_zone_offsets", "utc_offset_minutes"),
            ],
        ),
        (
            "staging",
            "flights",
            "is_diverted",
            [("raw.flights", "arr_delay"), ("raw.flights", "dep_time")],
        ),
        # the reference supplement is a file (read_csv), not a table
        ("staging", "airports", "time_zone", [("raw.airports", "tzone")]),
        ("staging", "planes", "manufacturer", [("raw.planes", "manufacturer")]),
        (
            "marts",
            "carrier_monthly_performance",
            "mean_dep_delay_minutes",
            [("staging.flights", "dep_delay_minutes")],
        ),
        (
            "marts",
            "carrier_monthly_performance",
            "carrier_name",
            [("staging.airlines", "carrier_name")],
        ),
        ("marts", "carrier_monthly_performance", "month", [("staging.flights", "flight_date")]),
        (
            "marts",
            "carrier_monthly_performance",
            "on_time_share",
            [("staging.flights", "arr_delay_minutes"), ("staging.flights", "is_cancelled")],
        ),
        (
            "marts",
            "fleet_performance",
            "age_band",
            [("staging.flights", "year"), ("staging.planes", "build_year")],
        ),
        ("marts", "route_performance", "dest_name", [("staging.airports", "airport_name")]),
        (  # each union branch bins one factor; "observed" is weather.origin is not null
            "marts",
            "weather_impact",
            "bin",
            [
                ("staging.weather", "origin"),
                ("staging.weather", "precipitation_in"),
                ("staging.weather", "visibility_miles"),
                ("staging.weather", "wind_speed_mph"),
            ],
        ),
        (
            "marts",
            "weather_delay_moments",
            "sum_precipitation_delay",
            [("staging.flights", "dep_delay_minutes"), ("staging.weather", "precipitation_in")],
        ),
    ],
)
def test_lineage_of_a_column_is_what_the_sql_reads(project_lineage, layer, name, column, expected):
    assert project_lineage(sql_file(layer, name))[column] == expected


@pytest.mark.parametrize("path", sorted(set(ASSET_SQL.values())), ids=layer_file)
def test_every_output_column_has_a_lineage(warehouse_columns, project_lineage, path):
    """Each output reads a source column unless allow-listed, and is a column of the built table."""
    lineage = project_lineage(path)
    table = layer_file(path).removesuffix(".sql").replace("/", ".")
    if table in warehouse_columns:
        assert list(lineage) == warehouse_columns[table]
    file = layer_file(path)
    without_source = {column for column, sources in lineage.items() if not sources}
    allowed = {column for allowed_file, column in NO_SOURCE_COLUMN if allowed_file == file}
    unexplained = sorted(without_source - allowed)
    assert not unexplained, f"{path.relative_to(REPOSITORY_DIR)}: no source column for {unexplained}"
    assert not allowed - without_source, f"stale NO_SOURCE_COLUMN entries for {file}"
