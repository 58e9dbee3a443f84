"""Sensors: landed files start loads that carry them to the report; automation covers the rest.

- ``landing_sensor`` (running by default; built by ``build_landing_sensor`` for the declared landed
  tables): each evaluation looks at the landing folder and
  requests **one run per delivery** — every complete file whose content the warehouse does not
  hold yet, loaded and carried through staging, the marts and the report in that run
  (pipeline/automation/delivery.py). What is loaded is read from the raw assets' latest
  materializations, whoever launched them (pipeline/automation/loaded.py); the cursor only saves
  re-hashing and re-reading. Readiness — complete, and unchanged for the settle interval — is in
  pipeline/automation/readiness.py; files it cannot use (names it does not recognise, bytes
  compressed otherwise than named) are reported once and left alone, and a delivery is held while a
  look-alike of its name is there (pipeline/automation/scan.py, zone_observations.py). A correction in
  the other compression retires the loaded version to the archive and loads in its place
  (pipeline/automation/replacement.py). It never opens the warehouse, whose lock a run may hold
  for minutes.
- ``automation_sensor`` (running by default): the assets' automation conditions
  (pipeline/automation/conditions.py) for what no delivery run covered: a raw asset materialized
  from the UI, or a delivery the landing sensor had to split.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import dagster as dg

from pipeline.automation import delivery, loaded, replacement, scan
from pipeline.automation import zone_observations as zone
from pipeline.automation.alerts import AlertNotifier
from pipeline.automation.jobs import load_landed_files_job
from pipeline.automation.readiness import ReadinessSettings, Seen, now
from pipeline.landing.landed_tables import LandedTables
from pipeline.landing.resources import LandingZone

SENSOR_NAME = scan.SENSOR_NAME
# The sensor daemon wakes every 5 s (MIN_INTERVAL_LOOP_TIME in dagster/_daemon/sensor.py) and
# skips a sensor whose last tick began less than its interval ago. 4 s, just under the wake-up
# period, makes every wake-up an evaluation (5 s measured as 4.99 s would skip one: ticks 10 s
# apart). An evaluation is a directory listing, a stat per file and a few indexed queries of the
# instance (hashes are cached in the cursor), so every wake-up is affordable, and a dropped file
# is seen 2.5 s after it lands on average: the rest of the 15 s goal is for the run. The settle
# interval is in readiness.py.
LANDING_SENSOR_INTERVAL_SECONDS = 4
# Files that become ready while others are still arriving (complete-looking but settling, or under
# a temporary .part name) wait for them, so that a drop of many files is one delivery, for at most
# this long after the first of them was written.
BATCH_HOLD_SECONDS = 30


@dataclass
class LandingCursor:
    """What the sensor remembers between evaluations; all of it can be rebuilt from the folder and
    the instance, so a lost or outdated cursor costs one slower evaluation, never a wrong one."""

    files: dict[str, Seen] = field(default_factory=dict)  # file versions seen, hashed or not
    requested: dict[str, str] = field(default_factory=dict)  # file -> SHA-256 this sensor requested
    loaded: dict[str, dict[str, str]] = field(default_factory=dict)  # raw asset -> file -> loaded SHA
    assets: dict[str, int] = field(default_factory=dict)  # raw asset -> latest storage id `loaded` saw
    reported: list[str] | None = None  # unusable files already reported; None: ask the instance
    held: list[str] | None = None  # held files already reported; None: ask the instance

    @classmethod
    def parse(cls, cursor: str | None) -> LandingCursor:
        try:
            state = json.loads(cursor or "")
            files = {name: Seen.from_json(value) for name, value in state["files"].items()}
            reported, held = state["reported"], state.get("held")
            return cls(files, state["requested"], state["loaded"], state["assets"], reported, held)
        except (ValueError, KeyError, TypeError):
            return cls()  # none yet, or an older format: rebuilt from the folder and the instance

    def serialize(self) -> str:
        files = {name: seen.to_json() for name, seen in sorted(self.files.items())}
        state = {"files": files, "requested": self.requested, "loaded": self.loaded}
        state |= {"assets": self.assets, "reported": self.reported, "held": self.held}
        return json.dumps(state, separators=(",", ":"), sort_keys=True)


def _repository(context: dg.SensorEvaluationContext) -> dg.RepositoryDefinition:
    if context.repository_def is None:
        raise dg.DagsterInvariantViolationError(
            "The landing sensor plans runs over the asset graph: evaluate it with the code location's "
            "definitions (build_sensor_context(definitions=...))."
        )
    return context.repository_def


def _job_assets(repository: dg.RepositoryDefinition):
    def assets_of(job_name: str):
        try:
            return repository.get_job(job_name).asset_layer.selected_asset_keys
        except Exception:  # a job this code location does not define: assume the worst
            return None

    return assets_of


def build_landing_sensor(landed: LandedTables) -> dg.SensorDefinition:
    """``landing_sensor`` for the raw tables ``landed`` (built from their declarations)."""
    raw_keys = landed.asset_keys

    @dg.sensor(
        name=SENSOR_NAME,
        job=load_landed_files_job,
        minimum_interval_seconds=LANDING_SENSOR_INTERVAL_SECONDS,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            "Loads every complete landing file whose content the warehouse does not hold yet — one run "
            "per delivery, carried through staging, the marts and the report. Files it does not "
            "recognise are reported once and left in place. Running by default: dropping files is "
            "how data arrives."
        ),
    )
    def landing_sensor(
        context: dg.SensorEvaluationContext, landing_zone: LandingZone, notifier: AlertNotifier
    ) -> dg.SensorResult:
        root = landing_zone.root
        if not root.is_dir():
            return dg.SensorResult(skip_reason=f"Landing folder {root} does not exist yet.")
        settings = ReadinessSettings.from_environment()
        previous = LandingCursor.parse(context.cursor)
        current = LandingCursor()
        look = scan.look(root, landed, previous.files, current.files, settings)
        quarantined = scan.quarantine_by_sensor(context, notifier, landing_zone, look, settings)
        instance = context.instance
        if previous.reported is not None and previous.held is not None:
            reported = zone.Reported(set(previous.reported), set(previous.held))
        else:
            reported = zone.previously_reported(instance)
        found = zone.Findings(look.unrecognised, look.mislabelled, look.held, quarantined)
        events = zone.report(context, notifier, root, found, reported)
        current.reported, current.held = sorted(found.unusable), sorted(look.held)

        repository = _repository(context)
        runs_in_progress = loaded.in_progress(instance, raw_keys, SENSOR_NAME, _job_assets(repository))
        storage_ids = loaded.latest_storage_ids(instance, raw_keys)
        current.assets = storage_ids
        for asset, storage_id in storage_ids.items():
            if previous.assets.get(asset) == storage_id:
                current.loaded[asset] = dict(previous.loaded.get(asset, {}))

        pending: list[delivery.LandingFile] = []
        unchanged: dict[tuple[str, str], delivery.LandingFile] = {}
        holding, requested_before, being_loaded = [], [], {}
        loaded_versions: dict[str, delivery.LandingFile] = {}  # delivery -> the loaded ready file
        for name, (file_class, seen) in look.ready.items():
            file = delivery.LandingFile(name, file_class.table, file_class.partition_key, seen.sha256)
            asset = file.asset_key.to_user_string()
            cache = current.loaded.setdefault(asset, {})
            if name not in cache:
                cache[name] = loaded.loaded_sha256(instance, file.asset_key, file.partition_key, name)
            by = runs_in_progress.loading(file.asset_key, file.partition_key)
            if cache[name] == file.sha256:
                holding.append(name)
                if by is None:
                    loaded_versions[replacement.delivery_of(name)] = file
                if file.partition_key is not None and by is None:
                    unchanged[(file.table, file.partition_key)] = file
            elif previous.requested.get(name) == file.sha256:
                requested_before.append(name)
                current.requested[name] = file.sha256
            elif by is not None:
                being_loaded[name] = by
            else:
                pending.append(file)

        notes, run_requests = [], []
        waiting_for_more = look.settling or look.partial
        oldest = min((look.oldest_mtime[file.name] for file in pending), default=now())
        if pending and runs_in_progress.landing_runs:
            notes.append(
                f"{len(pending)} new file(s) wait for delivery run {runs_in_progress.landing_runs[0]} to finish; "
                "they go into the next run together."
            )
        elif pending and waiting_for_more and now() - oldest < settings.settle_seconds + BATCH_HOLD_SECONDS:
            notes.append(
                f"{len(pending)} new file(s) wait for {', '.join(waiting_for_more)} to arrive, so that one "
                "run loads them all."
            )
        elif pending:
            # A correction under the other compression: the loaded version goes to the archive first.
            pending, notes = replacement.retire_replaced(
                context, landing_zone, pending, loaded_versions, unchanged
            )
            if pending and not notes:  # one whose loaded version could not be archived waits, all with it
                run_requests, notes = _request_runs(context, repository, pending, unchanged, current)
        for note in notes:
            context.log.info(note)

        summary = _summary(look, holding, requested_before, being_loaded, notes)
        return dg.SensorResult(
            run_requests=run_requests,
            skip_reason=None if run_requests else summary,
            cursor=current.serialize(),
            asset_events=events,
        )

    return landing_sensor


def _request_runs(
    context: dg.SensorEvaluationContext,
    repository: dg.RepositoryDefinition,
    pending: list[delivery.LandingFile],
    unchanged: dict[tuple[str, str], delivery.LandingFile],
    current: LandingCursor,
) -> tuple[list[dg.RunRequest], list[str]]:
    """One run per delivery whenever possible (pipeline/automation/delivery.py), remembered as requested."""
    graph = repository.asset_graph
    staged = {
        placed: loaded.staged_months(context.instance, placed)
        for placed in delivery.placed_through(graph, pending)
    }
    materialized = loaded.materialized_assets(context.instance, list(graph.materializable_asset_keys))
    deliveries, notes = delivery.plan(pending, unchanged, staged, graph, materialized)
    run_requests = []
    for planned in deliveries:
        run_requests.append(planned.run_request())
        current.requested |= {file.name: file.sha256 for file in planned.files}
        context.log.info(f"Requesting one run for {planned.describe()} ({planned.run_key}).")
    return run_requests, notes


def _summary(look: scan.Look, holding, requested_before, being_loaded, notes) -> str:
    parts = [f"Nothing new to load: {len(holding)} file(s) hold the loaded version."]
    if requested_before:
        parts.append(f"Requested earlier: {', '.join(requested_before)}.")
    if being_loaded:
        parts.append("Being loaded: " + ", ".join(f"{n} (run {r})" for n, r in being_loaded.items()) + ".")
    if look.held:
        parts.append("Held: " + "; ".join(f"{name}: {reason}" for name, reason in look.held.items()) + ".")
    if look.settling or look.partial:
        parts.append(f"Still arriving: {', '.join(look.settling + look.partial)}.")
    if look.incomplete:
        parts.append(f"Waiting for {len(look.incomplete)} incomplete file(s): {', '.join(look.incomplete)}.")
    if look.unrecognised or look.mislabelled:
        parts.append(
            "Not usable, left in place: "
            + "; ".join(
                f"{name}: {reason}" for name, reason in (look.mislabelled | look.unrecognised).items()
            )
            + "."
        )
    return " ".join(parts + notes)


# Declarative automation covers what no delivery run did: a raw asset materialized from the UI or
# a delivery the landing sensor had to split. Every 30 s: nothing on the usual path waits for it.
automation_sensor = dg.AutomationConditionSensorDefinition(
    name="automation_sensor",
    target=dg.AssetSelection.all(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
    description=(
        "Evaluates every asset's automation condition: staging, marts and the report refresh after "
        "raw data changes outside a landing delivery (which carries its own files to the report)."
    ),
)
