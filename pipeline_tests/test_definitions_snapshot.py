"""A snapshot of the whole code location, so that a change to the graph shows up in review.

Every asset (key, group, upstream keys, partitions, column names, checks with their blocking
flag), every job with the assets it selects, and the schedules and sensors, as sorted JSON
compared with ``snapshots/definitions.json``. An intended change is recorded by running the test
with ``UPDATE_SNAPSHOTS=1`` and committing the file with the change. Nothing is run.
"""

import difflib
import json
import os
from pathlib import Path

import dagster as dg

from pipeline.definitions import defs

SNAPSHOT = Path(__file__).parent / "snapshots" / "definitions.json"
UPDATE_COMMAND = "UPDATE_SNAPSHOTS=1 .venv/bin/pytest pipeline_tests/test_definitions_snapshot.py"
# Dagster's implicit job of all assets is named by Dagster, not by this project.
IMPLICIT_JOB_PREFIX = "__ASSET_JOB"


def _partitions(partitions_def: dg.PartitionsDefinition | None) -> str | None:
    if partitions_def is None:
        return None
    return f"{type(partitions_def).__name__}: {partitions_def}"


def _column_names(metadata: dict) -> list[str] | None:
    schema = metadata.get("dagster/column_schema")
    return None if schema is None else [column.name for column in schema.columns]


def definitions_snapshot(definitions: dg.Definitions) -> dict:
    """What the snapshot records of ``definitions``, as JSON-ready values in a stable order."""
    repository = definitions.get_repository_def()
    graph = repository.asset_graph
    checks_by_asset: dict[str, list[dict]] = {}
    for check_key in graph.asset_check_keys:
        spec = graph.get_check_spec(check_key)
        checks_by_asset.setdefault(check_key.asset_key.to_user_string(), []).append(
            {"name": spec.name, "blocking": spec.blocking}
        )
    assets = {}
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        name = key.to_user_string()
        assets[name] = {
            "group": node.group_name,
            "deps": sorted(parent.to_user_string() for parent in node.parent_keys),
            "partitions": _partitions(node.partitions_def),
            "columns": _column_names(node.metadata),
            "checks": sorted(checks_by_asset.get(name, []), key=lambda check: check["name"]),
        }
    jobs = {
        job.name: sorted(key.to_user_string() for key in job.asset_layer.selected_asset_keys)
        for job in repository.get_all_jobs()
        if not job.name.startswith(IMPLICIT_JOB_PREFIX)
    }
    return {
        "assets": assets,
        "jobs": jobs,
        "schedules": sorted(schedule.name for schedule in repository.schedule_defs),
        "sensors": sorted(sensor.name for sensor in repository.sensor_defs),
    }


def _as_json(snapshot: dict) -> str:
    return json.dumps(snapshot, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def test_definitions_match_the_snapshot():
    current = _as_json(definitions_snapshot(defs))
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(current)
    stored = SNAPSHOT.read_text() if SNAPSHOT.exists() else ""
    if current != stored:
        diff = "".join(
            difflib.unified_diff(
                stored.splitlines(keepends=True),
                current.splitlines(keepends=True),
                fromfile=f"{SNAPSHOT.name} (stored)",
                tofile=f"{SNAPSHOT.name} (current definitions)",
            )
        )
        raise AssertionError(
            f"The definitions differ from pipeline_tests/snapshots/{SNAPSHOT.name}:\n"
            f"{diff}\nIf the change is intended, record it with:\n    {UPDATE_COMMAND}\n"
            "and commit the snapshot with the change."
        )
