"""Data contracts: one pandera schema per staging and mart table, and the Dagster types built on them.

Mart outputs are small DataFrames: their Dagster types come from dagster-pandera and validate the
frame before the IO manager writes it. Staging outputs are WarehouseQuery objects that DuckDB runs
straight into the table, so there is no frame to validate: the same pandera schema is compiled to
DuckDB queries (column presence and types, nullability, uniqueness and each Check's statistics)
that the IO manager runs on the written slice inside its transaction, after the insert and before
the commit. Either way a table that breaks its contract never replaces the stored one, and the
error names the table, partition, column, rule, the number of failing rows and a sample of them.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import dagster as dg
import pandas as pd
import pandera.pandas as pa
from dagster_pandera import pandera_schema_to_dagster_type

from pipeline.warehouse.io_manager import WarehouseContractType, WarehouseQuery
from pipeline.partitions import monthly_partitions

SAMPLE_SIZE = 5
NYC_AIRPORTS = ["EWR", "JFK", "LGA"]
CARRIER_CODE = r"^[A-Z0-9]{2}$"
FAA_CODE = r"^[A-Z0-9]{3}$"
TAIL_NUMBER = r"^[A-Z0-9]+$"
# Four hours early to two days late: anything outside is a unit or keying error, not a flight.
DELAY_MINUTES = pa.Check.in_range(-240, 2880)
SHARE = pa.Check.in_range(0, 1)
UTC_TIMESTAMP = pd.DatetimeTZDtype("ns", "UTC")
FIRST_MONTH = pd.Timestamp(monthly_partitions.start.date())
LAST_MONTH = pd.Timestamp(monthly_partitions.get_last_partition_key())


def _column(dtype, *checks: pa.Check, nullable: bool = False, unique: bool = False, description: str):
    return pa.Column(dtype, list(checks), nullable=nullable, unique=unique, description=description)


def _lineage_columns(file_pattern: str) -> dict[str, pa.Column]:
    return {
        "_source_file": _column("str", pa.Check.str_matches(file_pattern), description="Landing file the row came from."),
        "_loaded_at": _column(UTC_TIMESTAMP, description="When the raw load ran."),
    }


# --- staging: enforced in DuckDB on the written slice --------------------------------------------

STAGING_FLIGHTS = pa.DataFrameSchema(
    name="StagingFlights",
    description="One row per scheduled flight departing NYC.",
    strict=True,
    columns={
        "flight_date": _column(pa.Date, description="Local date of the scheduled departure."),
        "year": _column("int16", pa.Check.in_range(1900, 2100), description="Year of flight_date."),
        "month": _column("int8", pa.Check.in_range(1, 12), description="Month of flight_date."),
        "day": _column("int8", pa.Check.in_range(1, 31), description="Day of flight_date."),
        "carrier": _column("str", pa.Check.str_matches(CARRIER_CODE), description="Carrier code."),
        "flight_number": _column("int32", pa.Check.in_range(1, 9999), description="Flight number."),
        "tailnum": _column("str", pa.Check.str_matches(TAIL_NUMBER), nullable=True, description="Plane tail number."),
        "origin": _column("str", pa.Check.isin(NYC_AIRPORTS), description="NYC departure airport."),
        "dest": _column("str", pa.Check.str_matches(FAA_CODE), description="Destination FAA code."),
        "sched_dep_at": _column(UTC_TIMESTAMP, description="Scheduled departure (needs the origin's time zone)."),
        "dep_at": _column(UTC_TIMESTAMP, nullable=True, description="Actual departure; null when cancelled."),
        "sched_arr_at": _column(UTC_TIMESTAMP, description="Scheduled arrival (needs the destination's time zone)."),
        "arr_at": _column(UTC_TIMESTAMP, nullable=True, description="Actual arrival; null when cancelled or diverted."),
        "dep_delay_minutes": _column("Int32", DELAY_MINUTES, nullable=True, description="Departure delay."),
        "arr_delay_minutes": _column("Int32", DELAY_MINUTES, nullable=True, description="Arrival delay."),
        "air_time_minutes": _column("Int32", pa.Check.in_range(1, 1440), nullable=True, description="Time in the air."),
        "distance_miles": _column(
            "int32", pa.Check.greater_than(0), pa.Check.less_than_or_equal_to(12500), description="Great-circle distance."
        ),
        "is_cancelled": _column("bool", description="No departure time reported."),
        "is_diverted": _column("bool", description="Departed but no arrival delay reported."),
        "sched_dep_hour": _column(UTC_TIMESTAMP, description="Hour of the scheduled departure, for weather joins."),
        **_lineage_columns(r"^flights_\d{4}-\d{2}\.csv$"),
    },
)

STAGING_WEATHER = pa.DataFrameSchema(
    name="StagingWeather",
    description="One row per NYC airport and hour of weather observation.",
    strict=True,
    unique=["origin", "observed_at"],
    columns={
        "origin": _column("str", pa.Check.isin(NYC_AIRPORTS), description="Observing airport."),
        "observation_date": _column(pa.Date, description="Local date of the observation."),
        "local_hour": _column("int8", pa.Check.in_range(0, 23), description="Local hour."),
        "observed_at": _column(UTC_TIMESTAMP, description="The observed hour in UTC."),
        "temperature_f": _column("float64", pa.Check.in_range(-60, 130), nullable=True, description="Temperature."),
        "dew_point_f": _column("float64", pa.Check.in_range(-80, 100), nullable=True, description="Dew point."),
        "relative_humidity": _column("float64", pa.Check.in_range(0, 100), nullable=True, description="Humidity, %."),
        "wind_direction_deg": _column("Int16", pa.Check.in_range(0, 360), nullable=True, description="Wind direction."),
        # Only the sign: the source has a 1,048 mph reading that checks.py reports as implausible.
        "wind_speed_mph": _column("float64", pa.Check.greater_than_or_equal_to(0), nullable=True, description="Wind speed."),
        "wind_gust_mph": _column("float64", pa.Check.greater_than_or_equal_to(0), nullable=True, description="Wind gust."),
        "precipitation_in": _column("float64", pa.Check.in_range(0, 20), nullable=True, description="Precipitation."),
        "pressure_mbar": _column("float64", pa.Check.in_range(850, 1100), nullable=True, description="Sea-level pressure."),
        "visibility_miles": _column("float64", pa.Check.greater_than_or_equal_to(0), nullable=True, description="Visibility."),
        **_lineage_columns(r"^weather_\d{4}-\d{2}\.csv$"),
    },
)

STAGING_AIRPORTS = pa.DataFrameSchema(
    name="StagingAirports",
    description="One row per airport FAA code.",
    strict=True,
    columns={
        "faa": _column("str", pa.Check.str_matches(FAA_CODE), unique=True, description="FAA code."),
        "airport_name": _column("str", description="Airport name."),
        "latitude": _column("float64", pa.Check.in_range(-90, 90), nullable=True, description="Latitude."),
        "longitude": _column("float64", pa.Check.in_range(-180, 180), nullable=True, description="Longitude."),
        "altitude_ft": _column("Int32", pa.Check.in_range(-1500, 30000), nullable=True, description="Altitude."),
        "utc_offset_hours": _column("Int16", pa.Check.in_range(-12, 14), nullable=True, description="Standard UTC offset."),
        "dst_rule": _column("str", pa.Check.isin(["A", "U", "N"]), nullable=True, description="DST rule."),
        "time_zone": _column("str", nullable=True, description="IANA time zone."),
        "from_reference_supplement": _column("bool", description="Row comes from the shipped reference file."),
    },
)

STAGING_AIRLINES = pa.DataFrameSchema(
    name="StagingAirlines",
    description="One row per carrier code.",
    strict=True,
    columns={
        "carrier": _column("str", pa.Check.str_matches(CARRIER_CODE), unique=True, description="Carrier code."),
        "carrier_name": _column("str", description="Airline name."),
    },
)

STAGING_PLANES = pa.DataFrameSchema(
    name="StagingPlanes",
    description="One row per tail number.",
    strict=True,
    columns={
        "tailnum": _column("str", pa.Check.str_matches(TAIL_NUMBER), unique=True, description="Tail number."),
        "build_year": _column("Int16", pa.Check.in_range(1903, 2100), nullable=True, description="Year built."),
        "aircraft_type": _column("str", description="Aircraft type."),
        "manufacturer": _column("str", description="Manufacturer, unified spelling."),
        "model": _column("str", description="Model."),
        "engines": _column("int8", pa.Check.in_range(1, 8), description="Number of engines."),
        "seats": _column("int16", pa.Check.in_range(1, 1000), description="Number of seats."),
        "cruise_speed_mph": _column("Int16", pa.Check.in_range(1, 800), nullable=True, description="Cruising speed."),
        "engine_type": _column("str", description="Engine type."),
    },
)

# --- marts: validated in pandas before the write ---------------------------------------------------

MARTS_CARRIER_MONTHLY_PERFORMANCE = pa.DataFrameSchema(
    name="MartsCarrierMonthlyPerformance",
    description="One row per carrier and month.",
    strict=True,
    unique=["carrier", "month"],
    checks=[
        pa.Check(lambda frame: frame["cancelled_flights"] <= frame["flights"], error="cancelled_flights <= flights")
    ],
    columns={
        "carrier": _column("str", pa.Check.str_matches(CARRIER_CODE), description="Carrier code."),
        "carrier_name": _column("str", description="Airline name (every carrier must be in airlines)."),
        "month": _column("datetime64[ns]", pa.Check.in_range(FIRST_MONTH, LAST_MONTH), description="First day of the month."),
        "flights": _column("int64", pa.Check.greater_than(0), description="Scheduled flights."),
        "cancelled_flights": _column("int64", pa.Check.greater_than_or_equal_to(0), description="Cancelled flights."),
        "cancellation_rate": _column("float64", SHARE, description="Cancelled share of flights."),
        "mean_dep_delay_minutes": _column("float64", DELAY_MINUTES, nullable=True, description="Mean departure delay."),
        "p90_dep_delay_minutes": _column("float64", DELAY_MINUTES, nullable=True, description="90th percentile departure delay."),
        "mean_arr_delay_minutes": _column("float64", DELAY_MINUTES, nullable=True, description="Mean arrival delay."),
        "p90_arr_delay_minutes": _column("float64", DELAY_MINUTES, nullable=True, description="90th percentile arrival delay."),
        "on_time_share": _column("float64", SHARE, nullable=True, description="Departed flights arriving ≤ 15 min late."),
    },
)

MARTS_ROUTE_PERFORMANCE = pa.DataFrameSchema(
    name="MartsRoutePerformance",
    description="One row per origin → destination route.",
    strict=True,
    unique=["origin", "dest"],
    columns={
        "origin": _column("str", pa.Check.isin(NYC_AIRPORTS), description="NYC departure airport."),
        "dest": _column("str", pa.Check.str_matches(FAA_CODE), description="Destination FAA code."),
        "dest_name": _column("str", description="Destination name (every destination must be in airports)."),
        "distance_miles": _column("int32", pa.Check.greater_than(0), description="Median distance."),
        "flights": _column("int64", pa.Check.greater_than(0), description="Scheduled flights."),
        "carriers": _column("int64", pa.Check.greater_than(0), description="Carriers flying the route."),
        "cancellation_rate": _column("float64", SHARE, description="Cancelled share of flights."),
        "mean_dep_delay_minutes": _column("float64", DELAY_MINUTES, nullable=True, description="Mean departure delay."),
        "mean_arr_delay_minutes": _column("float64", DELAY_MINUTES, nullable=True, description="Mean arrival delay."),
        "p90_arr_delay_minutes": _column("float64", DELAY_MINUTES, nullable=True, description="90th percentile arrival delay."),
        "on_time_share": _column("float64", SHARE, nullable=True, description="Departed flights arriving ≤ 15 min late."),
    },
)

WEATHER_FACTORS = ["precipitation", "visibility", "wind"]

MARTS_WEATHER_IMPACT = pa.DataFrameSchema(
    name="MartsWeatherImpact",
    description="One row per weather factor and bin.",
    strict=True,
    unique=["factor", "bin"],
    columns={
        "factor": _column("str", pa.Check.isin(WEATHER_FACTORS), description="Weather factor."),
        "bin": _column("str", description="Bin of the factor's value."),
        "flights": _column("int64", pa.Check.greater_than(0), description="Scheduled flights."),
        "cancellation_rate": _column("float64", SHARE, description="Cancelled share of flights."),
        "mean_dep_delay_minutes": _column("float64", DELAY_MINUTES, nullable=True, description="Mean departure delay."),
        "p90_dep_delay_minutes": _column("float64", DELAY_MINUTES, nullable=True, description="90th percentile departure delay."),
        "delayed_share": _column("float64", SHARE, nullable=True, description="Departed flights > 15 min late."),
    },
)

AGE_BANDS = ["00–04 years", "05–09 years", "10–14 years", "15–19 years", "20 years or more", "unknown"]

MARTS_FLEET_PERFORMANCE = pa.DataFrameSchema(
    name="MartsFleetPerformance",
    description="One row per manufacturer and plane-age band.",
    strict=True,
    unique=["manufacturer", "age_band"],
    columns={
        "manufacturer": _column("str", description="Manufacturer, or 'unknown'."),
        "age_band": _column("str", pa.Check.isin(AGE_BANDS), description="Plane age in 2013."),
        "flights": _column("int64", pa.Check.greater_than(0), description="Scheduled flights."),
        "planes": _column("int64", pa.Check.greater_than_or_equal_to(0), description="Distinct tail numbers."),
        "cancellation_rate": _column("float64", SHARE, description="Cancelled share of flights."),
        "mean_dep_delay_minutes": _column("float64", DELAY_MINUTES, nullable=True, description="Mean departure delay."),
        "mean_arr_delay_minutes": _column("float64", DELAY_MINUTES, nullable=True, description="Mean arrival delay."),
        "p90_arr_delay_minutes": _column("float64", DELAY_MINUTES, nullable=True, description="90th percentile arrival delay."),
    },
)

MARTS_WEATHER_DELAY_MODEL = pa.DataFrameSchema(
    name="MartsWeatherDelayModel",
    description="One row per origin airport and weather factor.",
    strict=True,
    unique=["origin", "factor"],
    columns={
        "origin": _column("str", pa.Check.isin(NYC_AIRPORTS), description="NYC departure airport."),
        "factor": _column("str", pa.Check.isin(WEATHER_FACTORS), description="Weather factor."),
        "minutes_per_unit": _column("float64", pa.Check.in_range(-1440, 1440), description="Fitted effect on delay."),
        "unit": _column("str", description="Unit of the factor."),
        "baseline_minutes": _column("float64", DELAY_MINUTES, description="Fitted intercept."),
        "flights": _column("int64", pa.Check.greater_than(0), description="Flights in the fit."),
        "r_squared": _column("float64", pa.Check.in_range(0, 1), description="Share of delay variance explained."),
    },
)


# --- the pandera schema compiled to DuckDB ---------------------------------------------------------


class UncompilableContract(TypeError):
    """A schema uses a dtype or Check that has no DuckDB translation."""


class ContractViolation(ValueError):
    """Rows written by an output break its contract; the write is rolled back."""

    def __init__(self, output: str, contract: str, violations: Sequence[Violation]):
        self.output, self.contract, self.violations = output, contract, list(violations)
        lines = "\n".join(f"  - {violation}" for violation in self.violations)
        super().__init__(
            f"{output} breaks its contract {contract} ({len(self.violations)} rule(s)); nothing was "
            f"written, the stored data is unchanged:\n{lines}"
        )


@dataclass(frozen=True)
class Violation:
    """A broken rule; ``failing_rows`` is None for a rule about the column itself (presence, type)."""

    column: str
    rule: str
    failing_rows: int | None
    sample: tuple[Any, ...] = ()

    def __str__(self) -> str:
        if self.failing_rows is None:
            return f"column {self.column}: {self.rule}"
        sample = ", ".join(_render(value) for value in self.sample)
        return f"column {self.column}: {self.rule} fails for {self.failing_rows:,} row(s), e.g. {sample}"


def _render(value: Any) -> str:
    if isinstance(value, tuple):
        return "(" + ", ".join(_render(part) for part in value) + ")"
    return "NULL" if value is None else repr(value) if isinstance(value, str) else str(value)


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


_INTEGER_TYPES = {"int8": "TINYINT", "int16": "SMALLINT", "int32": "INTEGER", "int64": "BIGINT"}
_SIMPLE_TYPES = {
    **_INTEGER_TYPES,
    "float32": "FLOAT",
    "float64": "DOUBLE",
    "str": "VARCHAR",
    "string": "VARCHAR",
    "bool": "BOOLEAN",
    "boolean": "BOOLEAN",
    "date": "DATE",
}


def duckdb_type(dtype) -> str:
    """The DuckDB column type a pandera dtype stands for (``Int16`` and ``int16`` → SMALLINT)."""
    name = str(dtype).lower()
    if name in _SIMPLE_TYPES:
        return _SIMPLE_TYPES[name]
    if name.startswith("datetime64["):
        return "TIMESTAMP WITH TIME ZONE" if "," in name else "TIMESTAMP"
    raise UncompilableContract(f"pandera dtype {dtype} has no DuckDB counterpart in pipeline.contracts")


@dataclass(frozen=True)
class _Rule:
    """One row-level rule as SQL: ``failing`` is true for a row that breaks it."""

    column: str
    name: str
    failing: str
    params: dict[str, Any]


def _check_rule(column: str, check: pa.Check, index: int) -> _Rule:
    """Translate a built-in pandera Check to a DuckDB predicate from its statistics."""
    quoted = _quote(column)
    stats = check.statistics or {}
    p = f"p_{index}"  # each rule binds its own named parameters
    comparisons = {
        "greater_than": (">", "min_value"),
        "greater_than_or_equal_to": (">=", "min_value"),
        "less_than": ("<", "max_value"),
        "less_than_or_equal_to": ("<=", "max_value"),
        "equal_to": ("=", "value"),
        "not_equal_to": ("<>", "value"),
    }
    if check.name in comparisons:
        operator, stat = comparisons[check.name]
        holds, params = f"{quoted} {operator} ${p}", {p: stats[stat]}
    elif check.name == "in_range":
        low = ">=" if stats.get("include_min", True) else ">"
        high = "<=" if stats.get("include_max", True) else "<"
        holds = f"{quoted} {low} ${p}_min and {quoted} {high} ${p}_max"
        params = {f"{p}_min": stats["min_value"], f"{p}_max": stats["max_value"]}
    elif check.name in ("isin", "notin"):
        values = list(stats["allowed_values" if check.name == "isin" else "forbidden_values"])
        holds = f"{'' if check.name == 'isin' else 'not '}list_contains(${p}, {quoted})"
        params = {p: values}
    elif check.name == "str_matches":
        # pandera matches from the start of the string (re.match); so does this anchored pattern.
        holds, params = f"regexp_matches({quoted}, ${p})", {p: f"^(?:{stats['pattern']})"}
    elif check.name == "str_startswith":
        holds, params = f"starts_with({quoted}, ${p})", {p: stats["string"]}
    elif check.name == "str_length":
        bounds = []
        params = {}
        if stats.get("exact_value") is not None:
            bounds.append(f"length({quoted}) = ${p}_exact")
            params[f"{p}_exact"] = stats["exact_value"]
        if stats.get("min_value") is not None:
            bounds.append(f"length({quoted}) >= ${p}_min")
            params[f"{p}_min"] = stats["min_value"]
        if stats.get("max_value") is not None:
            bounds.append(f"length({quoted}) <= ${p}_max")
            params[f"{p}_max"] = stats["max_value"]
        holds = " and ".join(bounds) or "true"
    else:
        raise UncompilableContract(
            f"Check {check.name or check} on column {column} has no DuckDB translation; use a "
            "built-in pandera check (in_range, greater_than, isin, str_matches, ...)."
        )
    failing = f"not coalesce({holds}, false)"
    if check.ignore_na:
        failing = f"{quoted} is not null and {failing}"
    return _Rule(column, str(check.error or check.name), failing, params)


@dataclass(frozen=True)
class CompiledContract:
    """A pandera schema as DuckDB queries over a relation (the written slice)."""

    schema: pa.DataFrameSchema
    rules: tuple[_Rule, ...]

    @classmethod
    def compile(cls, schema: pa.DataFrameSchema) -> CompiledContract:
        if schema.checks:
            raise UncompilableContract(
                f"{schema.name}: table-wide checks cannot be compiled to DuckDB; use column checks."
            )
        rules = []
        for name, column in schema.columns.items():
            duckdb_type(column.dtype)  # fail at import, not at the first write
            if not column.nullable:
                rules.append(_Rule(name, "not null", f"{_quote(name)} is null", {}))
            for check in column.checks:
                rules.append(_check_rule(name, check, len(rules)))
        return cls(schema, tuple(rules))

    def violations(self, connection, relation: str, sample_size: int = SAMPLE_SIZE) -> list[Violation]:
        """Every broken rule over ``relation`` (a table name or a parenthesized SELECT)."""
        actual = {
            name: dtype
            for name, dtype, *_ in connection.execute(f"describe select * from {relation}").fetchall()
        }
        found = self._column_violations(actual)
        broken_columns = {violation.column for violation in found}
        rules = [rule for rule in self.rules if rule.column not in broken_columns]
        # Pattern and set rules on text columns run once per distinct value, weighted by its
        # rows: regular expressions over every row of a fact table cost several times more.
        by_value = [rule for rule in rules if rule.name != "not null" and actual[rule.column] == "VARCHAR"]
        groups: dict[str, list[_Rule]] = {"": [rule for rule in rules if rule not in by_value]}
        for rule in by_value:
            groups.setdefault(rule.column, []).append(rule)
        for column, group in groups.items():
            if not group:
                continue
            if column:
                source = f"(select {_quote(column)}, count(*) as contract_rows from {relation} as contract_slice group by 1)"
                rows = "sum(contract_rows)"
            else:  # counting the rows directly is twice as fast as summing a constant column
                source = f"(select * from {relation} as contract_slice)"
                rows = "count(*)"
            params = {key: value for rule in group for key, value in rule.params.items()}
            counts = connection.execute(
                "select "
                + ", ".join(f"coalesce({rows} filter (where {rule.failing}), 0)" for rule in group)
                + f" from {source} as contract_rows_source",
                params,
            ).fetchall()[0]
            for rule, failing_rows in zip(group, counts, strict=True):
                if failing_rows:
                    found.append(self._rule_violation(connection, relation, rule, int(failing_rows), sample_size))
        for key in self._unique_keys():
            if not broken_columns.intersection(key):
                found.extend(duplicate_violations(connection, relation, key, sample_size))
        return found

    @staticmethod
    def _rule_violation(connection, relation: str, rule: _Rule, failing_rows: int, sample_size: int) -> Violation:
        sample = connection.execute(
            f"select distinct {_quote(rule.column)} from {relation} as contract_slice "
            f"where {rule.failing} order by 1 nulls first limit {int(sample_size)}",
            rule.params,
        ).fetchall()
        return Violation(rule.column, rule.name, failing_rows, tuple(row[0] for row in sample))

    def _column_violations(self, actual: dict[str, str]) -> list[Violation]:
        found = []
        for name, column in self.schema.columns.items():
            expected = duckdb_type(column.dtype)
            if name not in actual:
                found.append(Violation(name, "missing (the contract requires it)", None))
            elif actual[name] != expected:
                found.append(Violation(name, f"type {actual[name]}, the contract requires {expected}", None))
        if self.schema.strict:
            for name in sorted(actual.keys() - self.schema.columns.keys()):
                found.append(Violation(name, f"{actual[name]} column not in the contract", None))
        return found

    def _unique_keys(self) -> list[tuple[str, ...]]:
        keys = [(name,) for name, column in self.schema.columns.items() if column.unique]
        if self.schema.unique:
            keys.append(tuple(self.schema.unique))
        return keys


def duplicate_violations(
    connection, relation: str, key: Iterable[str], sample_size: int = SAMPLE_SIZE
) -> list[Violation]:
    """Rows of ``relation`` that share their ``key`` with another row, as one Violation."""
    columns = ", ".join(_quote(column) for column in key)
    duplicates = f"select {columns}, count(*) as copies from {relation} as keyed group by all having count(*) > 1"
    failing_rows = connection.execute(f"select coalesce(sum(copies), 0) from ({duplicates})").fetchall()[0][0]
    if not failing_rows:
        return []
    sample = connection.execute(f"{duplicates} order by all limit {int(sample_size)}").fetchall()
    label = ", ".join(key)
    return [
        Violation(
            label if len(tuple(key)) > 1 else next(iter(key)),
            f"unique ({label})",
            int(failing_rows),
            tuple(tuple(row[:-1]) for row in sample),
        )
    ]


class WarehouseTableType(WarehouseContractType):
    """The Dagster type of a staging table: a WarehouseQuery whose stored rows obey a pandera schema."""

    def __init__(self, schema: pa.DataFrameSchema):
        self.contract = CompiledContract.compile(schema)
        super().__init__(
            type_check_fn=_is_warehouse_query,
            name=schema.name,
            description=f"{schema.description} Checked by DuckDB on the written rows before commit.",
            typing_type=WarehouseQuery,
            metadata={"schema": dg.MetadataValue.table_schema(_duckdb_table_schema(schema))},
        )

    def validate_stored_slice(self, connection, slice_select: str, *, output: str) -> None:
        violations = self.contract.violations(connection, f"({slice_select})")
        if violations:
            raise ContractViolation(output, self.contract.schema.name, violations)


def _pandera_type(schema: pa.DataFrameSchema) -> dg.DagsterType:
    with warnings.catch_warnings():
        # dagster-pandera is marked beta; using it for the marts is a deliberate choice.
        warnings.simplefilter("ignore", dg.BetaWarning)
        return pandera_schema_to_dagster_type(schema)


def _duckdb_table_schema(schema: pa.DataFrameSchema) -> dg.TableSchema:
    """dagster-pandera's column schema (nullability, uniqueness, checks) with DuckDB type names."""
    pandera_columns = _pandera_type(schema).metadata["schema"].schema.columns
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                name=column.name,
                type=duckdb_type(schema.columns[column.name].dtype),
                description=column.description,
                constraints=column.constraints,
            )
            for column in pandera_columns
        ]
    )


def _is_warehouse_query(_context, value) -> dg.TypeCheck:
    if isinstance(value, WarehouseQuery):
        return dg.TypeCheck(success=True, description="Rows are checked in DuckDB before commit.")
    return dg.TypeCheck(success=False, description=f"Expected a WarehouseQuery, got {type(value).__name__}.")


StagingFlights = WarehouseTableType(STAGING_FLIGHTS)
StagingWeather = WarehouseTableType(STAGING_WEATHER)
StagingAirports = WarehouseTableType(STAGING_AIRPORTS)
StagingAirlines = WarehouseTableType(STAGING_AIRLINES)
StagingPlanes = WarehouseTableType(STAGING_PLANES)

MartsCarrierMonthlyPerformance = _pandera_type(MARTS_CARRIER_MONTHLY_PERFORMANCE)
MartsRoutePerformance = _pandera_type(MARTS_ROUTE_PERFORMANCE)
MartsWeatherImpact = _pandera_type(MARTS_WEATHER_IMPACT)
MartsFleetPerformance = _pandera_type(MARTS_FLEET_PERFORMANCE)
MartsWeatherDelayModel = _pandera_type(MARTS_WEATHER_DELAY_MODEL)

