"""Data contracts: the table declarations hold on the real tables, every staging and mart output carries
its Dagster type with the column schema, and data that breaks a contract fails the step with the
column, rule and offending values while the stored table stays as it was."""

import shutil

import dagster as dg
import duckdb
import pandas as pd
import pandera.pandas as pa
import pytest

from pipeline.definitions import defs
from pipeline.defs.declarations import declared_table, declared_tables
from pipeline.defs.marts import tables as marts
from pipeline.defs.staging import tables as staging
from pipeline.warehouse import contracts
from pipeline.warehouse.connection import connect
from pipeline.warehouse.outputs import WarehouseQuery
from pipeline.warehouse.publish import PublishedTableType
from pipeline.warehouse.tables import Column, Rule, Table, at_most, column, in_range, matches
from pipeline_tests.support import make_resources, materialize, step_failure_message

JANUARY = "2013-01-01"
DECLARED = {
    f"{table.schema}/{table.name}": table
    for table in (*declared_tables("staging"), *declared_tables("marts"), marts.WEATHER_DELAY_MODEL)
}


def _output_type(key: dg.AssetKey) -> dg.DagsterType:
    assets_def = defs.get_assets_def(key)
    output_name = assets_def.get_output_name_for_asset_key(key)
    return assets_def.node_def.resolve_output_to_origin(output_name, None)[0].dagster_type


@pytest.mark.parametrize("asset", sorted(DECLARED))
def test_each_staging_and_mart_output_carries_its_contract_type(asset):
    """The type the UI shows for the asset, with the declared columns as its column schema. Marts
    publish themselves: their contract is checked in DuckDB in the publishing transaction."""
    table = DECLARED[asset]
    dagster_type = _output_type(table.asset_key)
    expected = contracts.WarehouseTableType if table.schema == "staging" else PublishedTableType
    assert isinstance(dagster_type, expected)
    assert dagster_type.display_name == table.contract_name
    shown = dagster_type.metadata["schema"].schema
    assert [column.name for column in shown.columns] == table.column_names


def test_staging_type_shows_duckdb_column_types_and_rules():
    flights_type = _output_type(staging.FLIGHTS.asset_key)
    columns = {column.name: column for column in flights_type.metadata["schema"].schema.columns}
    assert columns["dep_delay_minutes"].type == "INTEGER"
    assert columns["sched_dep_at"].type == "TIMESTAMP WITH TIME ZONE"
    assert columns["origin"].constraints.other == ["isin(['EWR', 'JFK', 'LGA'])"]
    assert columns["carrier"].constraints.nullable is False
    assert columns["tailnum"].constraints.nullable is True


@pytest.mark.parametrize("asset", [name for name in sorted(DECLARED) if name.startswith("staging/")])
def test_staging_contracts_hold_on_the_real_tables(warehouse_conn, asset):
    table = DECLARED[asset]
    assert contracts.CompiledContract.compile(table).violations(warehouse_conn, table.qualified_name) == []


@pytest.mark.parametrize("asset", [name for name in sorted(DECLARED) if name.startswith("marts/")])
def test_mart_contracts_hold_on_the_real_tables(warehouse_conn, asset):
    table = DECLARED[asset]
    frame = warehouse_conn.execute(f"select * from {table.qualified_name}").fetchdf()
    result = contracts.DataFrameContractType(table).type_check(None, frame)
    assert result.success, result.description


def test_a_folder_marts_derived_pandera_contract_names_what_a_broken_frame_breaks(warehouse_conn):
    """The pandera schema derived from marts/carrier_monthly_performance/defs.yaml refuses a frame
    with more cancellations than flights, a carrier code of the wrong shape and a null where the
    declaration allows none, and says which."""
    table = declared_table("marts", "carrier_monthly_performance")
    frame = warehouse_conn.execute(f"select * from {table.qualified_name} order by carrier, month").fetchdf()
    frame.loc[0, "cancelled_flights"] = frame.loc[0, "flights"] + 1
    frame.loc[1, "carrier"] = "united"
    frame.loc[2, "flights"] = None
    result = contracts.DataFrameContractType(table).type_check(None, frame)
    assert not result.success
    for broken in (
        "Column 'carrier' failed element-wise validator number 0: str_matches('^[A-Z0-9]{2}$') failure cases: united",
        "<Check <lambda>: cancelled_flights <= flights> failure cases",
        "non-nullable series 'flights' contains null values",
    ):
        assert broken in result.description, result.description


def test_a_rule_without_a_duckdb_translation_is_refused_at_definition():
    custom = Table("staging", "custom", "A table.", (Column("x", "BIGINT", "x.", (Rule("is_prime", ()),)),))
    with pytest.raises(ValueError, match="rule is_prime has no DuckDB translation"):
        contracts.WarehouseTableType(custom)


def test_compiled_rules_agree_with_pandera_on_the_same_rows():
    """The SQL contract and the derived pandera schema judge the same frame alike."""
    table = Table(
        "marts",
        "sample",
        "A sample.",
        (
            column("code", "VARCHAR", "A code.", matches(r"^[A-Z]{2}$"), unique=True),
            column("month", "BIGINT", "A month.", in_range(1, 12)),
            column("share", "DOUBLE", "A share.", at_most(1), nullable=True),
        ),
    )
    frame = pd.DataFrame(
        {"code": ["AA", "AA", "b1", "UA"], "month": [1, 13, 0, 12], "share": [0.5, None, 1.5, 1.0]}
    )
    with pytest.raises(pa.errors.SchemaErrors) as pandera_error:
        contracts.pandera_schema(table).validate(frame, lazy=True)
    pandera_failures = pandera_error.value.failure_cases.groupby("column")["failure_case"].count().to_dict()

    with duckdb.connect() as conn:
        conn.register("frame", frame)
        violations = contracts.CompiledContract.compile(table).violations(conn, "frame")
    sql_failures: dict[str, int] = {}
    for violation in violations:
        sql_failures[violation.column] = sql_failures.get(violation.column, 0) + violation.failing_rows
    assert sql_failures == pandera_failures == {"code": 3, "month": 2, "share": 1}
    messages = [str(violation) for violation in violations]
    assert "column month: in_range(1, 12) fails for 2 row(s), e.g. 0, 13" in messages
    assert "column code: str_matches('^[A-Z]{2}$') fails for 1 row(s), e.g. 'b1'" in messages
    assert "column code: unique (code) fails for 2 row(s), e.g. ('AA')" in messages


def test_declared_columns_and_types_equal_the_stored_tables(warehouse_conn):
    """What the UI shows before a materialization is what DuckDB stores after it."""
    from pipeline.defs.raw.tables import RAW_TABLES

    for table in [*RAW_TABLES.values(), *DECLARED.values()]:
        stored = warehouse_conn.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = ? and table_name = ? order by ordinal_position",
            [table.schema, table.name],
        ).fetchall()
        assert stored == [(column.name, column.type) for column in table.columns], table.qualified_name


def _table_fingerprint(database, table: str, where: str = "true") -> tuple:
    with connect(database, read_only=True) as conn:
        return conn.execute(f"select count(*), sum(hash(columns(*))) from {table} where {where}").fetchall()[
            0
        ]


def _materialize(resources, *keys: list[str], partition: str | None = JANUARY):
    return materialize(
        list(defs.assets),
        selection=dg.AssetSelection.assets(*keys),
        resources=resources,
        partition_key=partition,
        raise_on_error=False,
    )


def test_out_of_range_delay_fails_staging_and_keeps_the_stored_month(tmp_path, landing_dir):
    resources = make_resources(tmp_path, landing_dir)
    dimensions = [["raw", "airports"], ["staging", "airports"], ["staging", "time_zone_offsets"]]
    assert _materialize(resources, *dimensions, partition=None).success
    assert _materialize(resources, ["raw", "flights"], ["staging", "flights"]).success
    database = tmp_path / "warehouse.duckdb"
    stored = _table_fingerprint(database, "staging.flights")

    # Ingest refuses a 9999-minute delay in the landed file; the staging contract is the second
    # line of defence, for rows that reach raw another way.
    with connect(database) as conn:
        conn.execute(
            "update raw.flights set dep_delay = 9999 where rowid = (select min(rowid) from raw.flights)"
        ).fetchall()

    result = _materialize(resources, ["staging", "flights"])

    assert not result.success
    message = step_failure_message(result)
    assert "staging/flights partition 2013-01-01 breaks its contract StagingFlights" in message
    assert "column dep_delay_minutes: in_range(-240, 2880) fails for 1 row(s), e.g. 9999" in message
    assert "the stored data is unchanged" in message
    assert _table_fingerprint(database, "staging.flights") == stored
    assert _table_fingerprint(database, "raw.flights", "dep_delay = 9999")[0] == 1


def test_missing_column_fails_the_contract_and_keeps_the_table(tmp_path, landing_dir):
    resources = make_resources(tmp_path, landing_dir)
    assert _materialize(resources, ["raw", "airlines"], ["staging", "airlines"], partition=None).success
    database = tmp_path / "warehouse.duckdb"
    stored = _table_fingerprint(database, "staging.airlines")

    @dg.asset(
        key=["staging", "airlines"],
        deps=[["raw", "airlines"]],
        dagster_type=contracts.WarehouseTableType(declared_table("staging", "airlines")),
    )
    def airlines_without_names() -> WarehouseQuery:
        return WarehouseQuery("select upper(carrier) as carrier from raw.airlines")

    result = materialize([airlines_without_names], resources=resources, raise_on_error=False)

    assert not result.success
    message = step_failure_message(result)
    assert "staging/airlines breaks its contract StagingAirlines" in message
    assert "column carrier_name: missing (the contract requires it)" in message
    assert _table_fingerprint(database, "staging.airlines") == stored


def test_mart_that_breaks_its_contract_is_not_written(tmp_path, built_warehouse, seeded_landing):
    database = tmp_path / "warehouse.duckdb"
    shutil.copyfile(built_warehouse["database"], database)
    resources = make_resources(tmp_path, seeded_landing)
    stored = _table_fingerprint(database, "marts.carrier_monthly_performance")
    with connect(database) as conn:
        # A flight of a carrier that staging/airlines does not know: the mart row gets no name.
        conn.execute(
            "insert into staging.flights select * replace ('ZZ' as carrier) from staging.flights limit 1"
        ).fetchall()

    result = _materialize(resources, ["marts", "carrier_monthly_performance"], partition=None)

    assert not result.success
    message = step_failure_message(result)
    assert "breaks its contract MartsCarrierMonthlyPerformance" in message
    assert "column carrier_name: not null fails for 1 row(s)" in message
    assert _table_fingerprint(database, "marts.carrier_monthly_performance") == stored
