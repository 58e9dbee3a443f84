"""Sensors: landed files start loads, and automation refreshes what depends on them.

- ``landing_sensor`` (running by default): a new or changed complete file in the landing folder
  requests a load of exactly what it feeds — one month of ``raw.flights`` or ``raw.weather``, or
  the dimension tables. It reads only the file system and its cursor, never the warehouse: a
  sensor that waited on the warehouse lock while a run writes would time out.
- ``automation_sensor`` (running by default): evaluates the assets' automation conditions
  (pipeline/automation/conditions.py), so staging, marts and the report follow the raw layer by themselves.
"""

import json
import os
import time
from collections.abc import Collection
from dataclasses import asdict, dataclass
from enum import Enum
from pathlib import Path

import dagster as dg

from pipeline import constants
from pipeline.automation.jobs import load_landed_files_job
from pipeline.files import sha256_of
from pipeline.landing.names import DIMENSION_FILES, FileKind, classify_landing_file
from pipeline.partitions import monthly_partitions
from pipeline.landing.quarantine import quarantine
from pipeline.landing.resources import LandingZone

LANDING_SENSOR_INTERVAL_SECONDS = 10
# A file untouched for this long is complete even if the sensor never saw it grow (a restart, or
# files already there when the sensor is first turned on); a newer one must keep its size and
# modification time from one evaluation to the next.
SETTLED_AFTER_SECONDS = 60
@dataclass(frozen=True)
class SeenFile:
    """A file as last observed, and the identity (run key) of its content last requested.

    ``identified`` says whether this size and modification time are the ones that were hashed;
    while a new version settles it is False and ``identity`` still names the previous content.
    """

    size: int
    mtime_ns: int
    identity: str | None = None
    identified: bool = False


@dataclass
class LandingCursor:
    files: dict[str, SeenFile]
    reported: list[str]  # unexpected names already logged, so each is warned about once

    @classmethod
    def parse(cls, cursor: str | None) -> "LandingCursor":
        if not cursor:
            return cls({}, [])
        state = json.loads(cursor)
        return cls(
            {name: SeenFile(**seen) for name, seen in state["files"].items()}, state["reported"]
        )

    def serialize(self) -> str:
        return json.dumps(
            {"files": {name: asdict(seen) for name, seen in sorted(self.files.items())},
             "reported": sorted(self.reported)},
            separators=(",", ":"),
        )


def run_key(name: str, size: int, sha256: str) -> str:
    """The file's identity: the same content under the same name never loads twice."""
    return f"{name}:{size}:{sha256}"


@dg.sensor(
    name="landing_sensor",
    job=load_landed_files_job,
    minimum_interval_seconds=LANDING_SENSOR_INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Loads each new or changed complete file in the landing folder: one month of flights or "
        "weather, or the dimension files. Running by default: dropping files is how data arrives."
    ),
)
def landing_sensor(context: dg.SensorEvaluationContext, landing_zone: LandingZone) -> dg.SensorResult:
    root = landing_zone.root
    if not root.is_dir():
        return dg.SensorResult(skip_reason=f"Landing folder {root} does not exist yet.")
    previous = LandingCursor.parse(context.cursor)
    current = LandingCursor({}, [])
    partition_keys = set(monthly_partitions.get_partition_keys())
    now_ns = time.time_ns()
    run_requests: list[dg.RunRequest] = []
    ready_dimensions: dict[str, str] = {}  # file name → identity
    waiting: list[str] = []
    skipped: dict[str, str] = {}

    for entry in sorted(os.scandir(root), key=lambda entry: entry.name):
        file_class = classify_landing_file(entry.name, partition_keys)
        if file_class.kind is FileKind.PARTIAL:
            waiting.append(entry.name)
            continue
        if file_class.kind is FileKind.UNEXPECTED:
            skipped[entry.name] = file_class.reason
            continue
        if entry.is_symlink() or not entry.is_file():
            skipped[entry.name] = "not a regular file (landing files may not be links or folders)"
            continue

        stat = entry.stat()
        seen = previous.files.get(entry.name)
        last_identity = seen.identity if seen else None
        unchanged = seen is not None and (seen.size, seen.mtime_ns) == (stat.st_size, stat.st_mtime_ns)
        if unchanged and seen.identified:
            current.files[entry.name] = seen
            continue
        settled = now_ns - stat.st_mtime_ns >= SETTLED_AFTER_SECONDS * 1_000_000_000
        if not (unchanged or settled):
            current.files[entry.name] = SeenFile(stat.st_size, stat.st_mtime_ns, last_identity)
            waiting.append(entry.name)
            continue
        if file_class.kind is FileKind.OUT_OF_RANGE:
            # No run would ever load it: move it aside now rather than warn on every evaluation.
            quarantined = quarantine(
                Path(entry.path),
                landing_zone.quarantine_root,
                reason=f"{file_class.reason}; quarantined by landing_sensor",
            )
            context.log.warning(
                f"Quarantined {entry.path}: {file_class.reason}. Moved to {quarantined.path}."
            )
            continue

        digest = sha256_of(Path(entry.path))
        after = os.stat(entry.path)
        if (after.st_size, after.st_mtime_ns) != (stat.st_size, stat.st_mtime_ns):
            current.files[entry.name] = SeenFile(after.st_size, after.st_mtime_ns, last_identity)
            waiting.append(entry.name)
            continue
        identity = run_key(entry.name, stat.st_size, digest)
        current.files[entry.name] = SeenFile(stat.st_size, stat.st_mtime_ns, identity, True)
        if identity == last_identity:
            context.log.info(f"{entry.name} was written again with the same content; not reloading.")
            continue
        if file_class.kind is FileKind.DIMENSION:
            ready_dimensions[entry.name] = identity
            continue
        run_requests.append(
            dg.RunRequest(
                run_key=identity,
                partition_key=file_class.partition_key,
                asset_selection=[dg.AssetKey([constants.RAW_SCHEMA, file_class.table])],
                tags={"landing/file": entry.name, "landing/sha256": digest},
            )
        )

    if ready_dimensions:
        # One run for the dimension files that arrived together, queued first: staging places
        # each month's flights through the airports, so months wait for the dimensions anyway.
        run_requests.insert(
            0,
            dg.RunRequest(
                run_key=" + ".join(identity for _, identity in sorted(ready_dimensions.items())),
                asset_selection=[
                    dg.AssetKey([constants.RAW_SCHEMA, DIMENSION_FILES[name]])
                    for name in sorted(ready_dimensions)
                ],
                tags={"landing/file": ", ".join(sorted(ready_dimensions))},
            )
        )

    for name, reason in skipped.items():
        if name not in previous.reported:
            context.log.warning(f"Skipping {root / name}: {reason}. The file was left in place.")
    current.reported = sorted(skipped)

    for request in run_requests:
        context.log.info(f"Requesting a load of {request.tags['landing/file']} ({request.run_key}).")
    skip_reason = None
    if not run_requests:
        notes = ["No new complete landing files."]
        if waiting:
            notes.append(f"Waiting for {len(waiting)} file(s) still being written: {', '.join(waiting)}.")
        if skipped:
            notes.append(
                f"Skipped {len(skipped)} file(s): "
                + "; ".join(f"{name}: {reason}" for name, reason in skipped.items())
                + "."
            )
        skip_reason = " ".join(notes)
    return dg.SensorResult(
        run_requests=run_requests, skip_reason=skip_reason, cursor=current.serialize()
    )


automation_sensor = dg.AutomationConditionSensorDefinition(
    name="automation_sensor",
    target=dg.AssetSelection.all(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
    description=(
        "Evaluates every asset's automation condition: staging, marts and the report refresh after "
        "new raw data lands. Running by default, or loaded files would stop at the raw layer."
    ),
)
