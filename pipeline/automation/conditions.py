"""How the pipeline runs itself: when assets refresh on their own, and how transient failures retry.

Raw assets are loaded by the landing sensor (pipeline/automation/sensors.py). Everything downstream refreshes
through declarative automation, evaluated by the automation sensor:

- staging: ``eager_every_partition`` — Dagster's ``eager()`` for every month, not only the latest
  time window (2013 is a closed year, so the "latest window" would be December for ever), and
  only over raw data whose blocking checks passed;
- marts and the report: ``refresh_with_landed_months`` — refresh when an upstream updates, as soon
  as every upstream holds some data (a mart over the months landed so far is better than no mart),
  and never while an upstream's blocking asset check fails.
"""

import dagster as dg

AC = dg.AutomationCondition


def _deps_updated_or_newly_missing() -> dg.AutomationCondition:
    return (AC.newly_missing() | AC.any_deps_updated()).since_last_handled()


# Tag of the landing sensor's runs that carry their files through everything downstream
# (pipeline/automation/delivery.py). Nothing downstream of such a run is automation's to do.
CARRIED_TAG = "landing/carried"


def _upstream_not_carried_by_a_delivery() -> dg.AutomationCondition:
    """No upstream's latest update came from a landing delivery run, which refreshes (or, on a
    failed check, deliberately stops) everything downstream itself. Without this, an evaluation
    in the middle of such a run could request a month the run is about to write: Dagster can
    report one partition of a range run as neither in progress nor done between its events."""
    return ~AC.any_deps_match(AC.executed_with_tags(tag_keys={CARRIED_TAG})).with_label(
        "upstream_not_from_a_delivery_run"
    )


def eager_every_partition() -> dg.AutomationCondition:
    """Refresh a partition when its upstream updates, once no upstream is missing or failing a
    blocking check."""
    return (
        _deps_updated_or_newly_missing()
        & ~AC.any_deps_missing()
        & AC.all_deps_blocking_checks_passed()
        & ~AC.any_deps_in_progress()
        & ~AC.in_progress()
        & _upstream_not_carried_by_a_delivery()
    ).with_label("eager_every_partition")


def refresh_with_landed_months() -> dg.AutomationCondition:
    """Refresh when an upstream updates and every upstream has data whose blocking checks pass.

    An unpartitioned asset over monthly upstreams: ``eager()`` would wait until all twelve months
    exist. Here a dependency counts as present when any of its months is (or is about to be)
    materialized, so each landed month brings the marts up to date.
    """
    return (
        _deps_updated_or_newly_missing()
        & AC.all_deps_match(~AC.missing() | AC.will_be_requested()).with_label("all_deps_have_data")
        & AC.all_deps_blocking_checks_passed()
        & ~AC.any_deps_in_progress()
        & ~AC.in_progress()
        & _upstream_not_carried_by_a_delivery()
    ).with_label("refresh_with_landed_months")


# For steps whose failures are transient: the warehouse lock still held after the 300 s wait (a
# long backfill or backup), or the disk briefly full. Set on the marts, the graph-backed asset's
# query and the maintenance ops. Not on raw loads: a file that is still being written is never
# requested (the landing sensor waits for it to settle), and a bad one is quarantined with
# Failure(allow_retries=False). Not on staging: its failures are contract violations, which
# fail the same way again.
TRANSIENT_FAILURE_RETRY = dg.RetryPolicy(
    max_retries=2, delay=30, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)
