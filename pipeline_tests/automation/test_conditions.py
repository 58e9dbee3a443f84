"""Declarative automation, evaluated with ``evaluate_automation_conditions`` on a real instance.

One month lands and is loaded by real runs; the test then asks the code location's own automation
conditions what they would request next: staging for exactly the landed month, then the marts —
and no mart while an upstream blocking check (``carrier_in_airlines`` on staging/flights) has
failed, until a corrected file passes it.
"""

import shutil

import dagster as dg
import pytest

from pipeline.automation.conditions import CARRIED_TAG
from pipeline_tests.support import definitions_with, make_resources

MARCH = "2013-03-01"
MARTS = {
    "marts/carrier_monthly_performance",
    "marts/route_performance",
    "marts/weather_impact",
    "marts/fleet_performance",
    "marts/weather_delay_model",
}
AIRLINE_REDELIVERY = [["raw", "airlines"], ["staging", "airlines"], ["staging", "flights"]]


@pytest.fixture(scope="module")
def march(tmp_path_factory, seeded_landing):
    """March's files and the dimensions landed, an instance recording the runs that load them."""
    root = tmp_path_factory.mktemp("automation")
    landing_dir = root / "landing"
    landing_dir.mkdir()
    for name in ("airlines.csv", "airports.csv", "planes.csv", "flights_2013-03.csv", "weather_2013-03.csv"):
        shutil.copyfile(seeded_landing / name, landing_dir / name)
    resources = make_resources(root, landing_dir)
    code_location = definitions_with(resources)
    with dg.instance_for_test() as instance:
        yield {"landing": landing_dir, "resources": resources, "defs": code_location, "instance": instance}


def _run(
    march, selection: dg.AssetSelection, tags: dict[str, str] | None = None
) -> dg.ExecuteInProcessResult:
    """A real run of ``selection`` (with its checks) for March, recorded in the instance."""
    code_location = march["defs"]
    return dg.materialize(
        [*code_location.assets, *code_location.asset_checks],
        selection=selection,
        partition_key=MARCH,
        resources=march["resources"],
        instance=march["instance"],
        tags=tags,
        raise_on_error=False,
    )


def _evaluate(march, cursor=None):
    result = dg.evaluate_automation_conditions(defs=march["defs"], instance=march["instance"], cursor=cursor)
    keys = march["defs"].resolve_all_asset_keys()
    requested = {
        key.to_user_string(): set(result.get_requested_partitions(key))
        for key in keys
        if result.get_num_requested(key)
    }
    return requested, result.cursor


def _failed_checks(result: dg.ExecuteInProcessResult) -> set[str]:
    return {
        evaluation.asset_check_key.to_user_string()
        for evaluation in result.get_asset_check_evaluations()
        if not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR
    }


@pytest.mark.integration  # four runs through every layer's checks and four evaluations: out of the fast loop
def test_landed_month_refreshes_staging_then_marts_but_not_past_a_failed_blocking_check(march):
    nothing_yet, cursor = _evaluate(march)  # the sensor's tick before any data arrives
    assert nothing_yet == {}

    assert _run(march, dg.AssetSelection.groups("raw")).success
    requested, cursor = _evaluate(march, cursor)
    # Staging for the month that landed — not only the latest month, as Dagster's eager() would.
    assert requested == {
        "staging/airlines": {None},
        "staging/airports": {None},
        "staging/planes": {None},
        "staging/weather": {MARCH},
    }  # staging/flights waits one tick, for staging/airports and its blocking checks

    assert _run(march, dg.AssetSelection.groups("staging")).success
    requested, cursor = _evaluate(march, cursor)
    assert set(requested) == MARTS
    assert all(partitions == {None} for partitions in requested.values())

    # Upstream re-delivers airlines without United: flights now name a carrier staging lacks.
    airlines = march["landing"] / "airlines.csv"
    original = airlines.read_text()
    header, *rows = original.splitlines(keepends=True)
    airlines.write_text("".join([header, *(row for row in rows if not row.startswith("UA,"))]))
    # The volume guard holds a dimension that orphans stored flights; an operator accepts it here.
    accepted = {"landing/accept_volume_change": "test: airlines without United"}
    redelivery = _run(march, dg.AssetSelection.assets(*AIRLINE_REDELIVERY), tags=accepted)
    assert "staging/flights:carrier_in_airlines" in _failed_checks(redelivery)

    requested, cursor = _evaluate(march, cursor)
    assert not set(requested) & MARTS, "a mart must not build on a failed blocking check"

    # The corrected file (United back; rows in a new order, so a new version) passes the check.
    airlines.write_text("".join([header, *reversed(rows)]))
    correction = _run(march, dg.AssetSelection.assets(*AIRLINE_REDELIVERY))
    assert correction.success and not _failed_checks(correction)

    requested, _ = _evaluate(march, cursor)
    assert set(requested) == MARTS


@pytest.mark.integration  # three runs through every layer's checks
def test_nothing_a_landing_delivery_run_carried_is_requested_again(tmp_path, seeded_landing):
    """A delivery run refreshes what is downstream of its files itself: even where it stopped (a
    raw-only run here), automation leaves what it updated alone; the same run from the UI, not."""
    landing_dir = tmp_path / "landing"
    landing_dir.mkdir()
    for name in ("airlines.csv", "airports.csv", "planes.csv", "flights_2013-03.csv", "weather_2013-03.csv"):
        shutil.copyfile(seeded_landing / name, landing_dir / name)
    resources = make_resources(tmp_path, landing_dir)
    with dg.instance_for_test() as instance:
        march = {"landing": landing_dir, "resources": resources, "defs": definitions_with(resources)}
        march["instance"] = instance
        _, cursor = _evaluate(march)

        assert _run(march, dg.AssetSelection.groups("raw"), tags={CARRIED_TAG: "true"}).success
        requested, cursor = _evaluate(march, cursor)
        assert requested == {}

        assert _run(march, dg.AssetSelection.groups("raw")).success  # the same load, from the UI
        requested, _ = _evaluate(march, cursor)
        assert requested["staging/weather"] == {MARCH}
