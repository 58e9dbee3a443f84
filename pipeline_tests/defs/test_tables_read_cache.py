"""The tables each SQL file reads, recorded per text (tables_read_cache.json) so a load runs no sqlglot.

The record must be what sqlglot reads in each file as it is now, a load must find every answer in
it, and an edited file must get the deps of its new text, never the recorded ones.
"""

import json
import subprocess
import sys

import dagster as dg
import pytest

import pipeline.warehouse.lineage
from pipeline.constants import PROJECT_ROOT
from pipeline.defs import asset_sql
from pipeline.defs.tables_read_cache import CACHE_FILE, REFRESH_COMMAND, TablesReadCache, text_digest
from pipeline.warehouse.lineage import tables_read

RECORDED = json.loads(CACHE_FILE.read_text())
ROUTE_PERFORMANCE = "route_performance/route_performance"


@pytest.mark.parametrize("name", sorted(RECORDED))
def test_each_record_is_what_sqlglot_reads_in_the_file_as_it_is(name):
    sql = (PROJECT_ROOT / name).read_text()
    assert RECORDED[name]["sha256"] == text_digest(sql), f"{name} changed: run {REFRESH_COMMAND}"
    assert RECORDED[name]["reads"] == sorted(tables_read(sql, sql_file=name))


def test_loading_the_code_location_finds_every_answer_recorded_and_runs_no_sqlglot():
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json, sys\n"
            "import pipeline.definitions\n"
            "from pipeline.defs.tables_read_cache import CODE_LOCATION_TABLES_READ as cache\n"
            "print(json.dumps({'sqlglot': 'sqlglot' in sys.modules, 'asked': cache.asked}))",
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    found = json.loads(loaded.stdout)
    assert found["asked"] == RECORDED, f"the record is not what the load asks: run {REFRESH_COMMAND}"
    assert not found["sqlglot"]


def test_a_recorded_text_is_answered_without_sqlglot_and_an_edited_one_by_it(tmp_path, monkeypatch):
    sql_file = tmp_path / "orders.sql"
    first = "select * from staging.orders"
    recording = TablesReadCache(tmp_path / "cache.json", tmp_path)
    assert recording.tables_read(first, sql_file=sql_file) == {"staging.orders"}
    recording.write()
    assert json.loads((tmp_path / "cache.json").read_text()) == {
        "orders.sql": {"sha256": text_digest(first), "reads": ["staging.orders"]}
    }

    def parse(sql, *, sql_file):
        raise AssertionError(f"sqlglot parsed {sql_file}")

    cache = TablesReadCache(tmp_path / "cache.json", tmp_path)
    monkeypatch.setattr(pipeline.warehouse.lineage, "tables_read", parse)
    assert cache.tables_read(first, sql_file=sql_file) == {"staging.orders"}
    monkeypatch.undo()
    edited = "select * from staging.orders join staging.customers using (customer_id)"
    assert cache.tables_read(edited, sql_file=sql_file) == {"staging.orders", "staging.customers"}


def test_editing_a_marts_sql_changes_its_assets_deps(monkeypatch):
    assert asset_sql.sql_file("marts", ROUTE_PERFORMANCE).deps == [
        dg.AssetKey(["staging", "airports"]),
        dg.AssetKey(["staging", "flights"]),
    ]
    read_sql = asset_sql.read_sql
    monkeypatch.setattr(
        asset_sql, "read_sql", lambda *name: read_sql(*name).replace("staging.airports", "staging.planes")
    )
    assert asset_sql.sql_file("marts", ROUTE_PERFORMANCE).deps == [
        dg.AssetKey(["staging", "flights"]),
        dg.AssetKey(["staging", "planes"]),
    ]
