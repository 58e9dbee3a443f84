"""The landing zone in the UI, and what the landing sensor tells the operator about it.

``landing/zone`` is an external asset (nothing materializes it): the landing folder itself. The
landing sensor records an observation of it whenever the set of files it does not recognise
changes, and whenever it quarantines a file by itself, so the asset's page lists what is lying in
the folder unloaded, and why. Files it does not recognise are never moved or deleted.

Through the ``notifier`` resource (pipeline/automation/alerts.py) the operator hears once about
each file the landing zone does not recognise, and about a file that stayed incomplete past the
limit before it is quarantined.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import dagster as dg

from pipeline.automation.alerts import AlertNotifier

LANDING_ZONE_KEY = dg.AssetKey(["landing", "zone"])
UNRECOGNISED = "unrecognised_files"

# An AssetsDefinition (not a bare AssetSpec) so that it is listed with the others in defs.assets.
landing_zone_asset = dg.AssetsDefinition(
    specs=[
        dg.AssetSpec(
            key=LANDING_ZONE_KEY,
            group_name="landing",
            kinds={"folder"},
            description=(
                "The landing folder where upstream drops source files (LANDING_DIR). Observed by the "
                "landing_sensor: each observation lists the files it does not recognise (left in place) "
                "and any file it quarantined itself (incomplete past the limit, or a month outside the "
                "partitions)."
            ),
        )
    ]
)


def previously_reported(instance: dg.DagsterInstance) -> set[str]:
    """The unrecognised files the latest observation listed: already reported to the operator."""
    records = instance.fetch_observations(LANDING_ZONE_KEY, limit=1).records
    if not records or records[0].asset_observation is None:
        return set()
    listed = records[0].asset_observation.metadata.get(UNRECOGNISED)
    return {entry["file"] for entry in getattr(listed, "data", None) or [] if isinstance(entry, dict)}


def report(
    context: dg.SensorEvaluationContext,
    notifier: AlertNotifier,
    root: Path,
    unrecognised: Mapping[str, str],
    previous: set[str],
    quarantined: Sequence[Mapping[str, object]],
) -> list[dg.AssetObservation]:
    """One alert per newly unrecognised file; an observation when the picture changed."""
    for name in sorted(set(unrecognised) - previous):
        alert = {
            "kind": "unrecognised_landing_file",
            "file": name,
            "path": str(root / name),
            "reason": unrecognised[name],
            "action": "left in place, never loaded: rename it to a landing file name, or remove it",
        }
        error = notifier.send(alert)
        context.log.warning(f"{root / name} is not a landing file: {unrecognised[name]}. Left in place.")
        if error is not None:
            context.log.error(error)
    if set(unrecognised) == previous and not quarantined:
        return []
    listed = [{"file": name, "reason": reason} for name, reason in sorted(unrecognised.items())]
    return [
        dg.AssetObservation(
            asset_key=LANDING_ZONE_KEY,
            description=f"{len(listed)} unrecognised file(s) in {root}; {len(quarantined)} quarantined now.",
            metadata={
                UNRECOGNISED: dg.MetadataValue.json(listed),
                "unrecognised_count": len(listed),
                "quarantined_by_sensor": dg.MetadataValue.json(list(quarantined)),
                "landing_folder": dg.MetadataValue.path(str(root)),
            },
        )
    ]


def tell_overdue(
    context: dg.SensorEvaluationContext, notifier: AlertNotifier, path: Path, size: int, limit: float
) -> None:
    """The operator hears of a file that stayed incomplete past the limit, before it is moved."""
    alert = {
        "kind": "incomplete_landing_file",
        "file": path.name,
        "path": str(path),
        "size_bytes": size,
        "reason": f"incomplete (empty, or no line ending at the end) and unchanged for over {limit:.0f} s",
        "action": "moved to quarantine beside a note; drop the complete file under the same name",
    }
    error = notifier.send(alert)
    context.log.warning(f"{path} has been incomplete and unchanged for over {limit:.0f} s; quarantining it.")
    if error is not None:
        context.log.error(error)
