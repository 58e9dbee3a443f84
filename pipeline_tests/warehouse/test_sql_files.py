"""load_sql: every SQL file's ${slot}s filled with validated identifiers, column lists or Fixed SQL;
values stay $parameters and are never filled in."""

import duckdb
import pytest

from pipeline.warehouse.identifiers import InvalidIdentifierError
from pipeline.warehouse.sql_files import Fixed, fill_slots, load_sql


def test_slots_take_identifiers_columns_and_fixed_sql():
    sql = fill_slots(
        "select ${key}, ${expr} from ${table} where x = $value",
        {"key": ["a", "b"], "expr": Fixed("count(*)"), "table": "raw.t"},
    )
    assert sql == "select a, b, count(*) from raw.t where x = $value"


@pytest.mark.parametrize("hostile", ["t; drop table x", "raw.t--", 'a"b'])
def test_a_slot_refuses_what_is_not_an_identifier(hostile):
    with pytest.raises(InvalidIdentifierError):
        fill_slots("select * from ${table}", {"table": hostile})


def test_a_slot_without_a_value_is_an_error_naming_it():
    with pytest.raises(KeyError, match=r"\$\{key\} has no value"):
        fill_slots("select ${key} from t", {"table": "t"})


def test_a_file_is_read_filled_and_runs_with_its_parameters(tmp_path):
    (tmp_path / "pick.sql").write_text("select ${column} * $factor as doubled from ${table}")
    sql = load_sql(tmp_path, "pick", column="n", table="numbers")
    with duckdb.connect() as conn:
        conn.execute("create table numbers as select 21 as n")
        assert conn.execute(sql, {"factor": 2}).fetchall() == [(42,)]
