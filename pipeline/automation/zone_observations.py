"""The landing zone in the UI, and what the landing sensor tells the operator about it.

``landing/zone`` is an external asset (nothing materializes it): the landing folder itself. The
landing sensor records an observation of it whenever the set of files it cannot use or holds
changes, and whenever it quarantines a file by itself, so the asset's page lists what is lying in
the folder unloaded, and why. Files it cannot use are never moved or deleted: names it does not
recognise, and files compressed otherwise than their name says (the fix is a rename). A delivery
is *held* — not loaded — while a look-alike of its name is in the folder (a possible second part
of it) or a mislabelled file of the same delivery.

Through the ``notifier`` resource (pipeline/automation/alerts.py) the operator hears once about
each file the landing zone cannot use (a look-alike's reason says which delivery it holds: "possible
second part of <table> 2013-03"), and about a file that stayed incomplete past the limit before it
is quarantined.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from pipeline.automation.alerts import AlertNotifier

LANDING_ZONE_KEY = dg.AssetKey(["landing", "zone"])
UNRECOGNISED = "unrecognised_files"  # every file it cannot use: unrecognised names and mislabelled
HELD = "held_files"

# An AssetsDefinition (not a bare AssetSpec) so that it is listed with the others in defs.assets.
landing_folder_asset = dg.AssetsDefinition(
    specs=[
        dg.AssetSpec(
            key=LANDING_ZONE_KEY,
            group_name="landing",
            kinds={"folder"},
            description=(
                "The landing folder where upstream drops source files (LANDING_DIR). Observed by the "
                "landing_sensor: each observation lists the files it cannot use (left in place), the "
                "deliveries it holds while a look-alike of their name is here, and any file it "
                "quarantined itself (incomplete past the limit, or a month outside the partitions)."
            ),
        )
    ]
)


@dataclass
class Findings:
    """What one evaluation found in the landing folder worth telling: file name -> reason."""

    unrecognised: Mapping[str, str] = field(default_factory=dict)  # names it does not recognise
    mislabelled: Mapping[str, str] = field(default_factory=dict)  # compressed otherwise than named
    held: Mapping[str, str] = field(default_factory=dict)  # ready files not loaded, and why
    quarantined: Sequence[Mapping[str, object]] = ()

    @property
    def unusable(self) -> dict[str, str]:
        return {**self.unrecognised, **self.mislabelled}


@dataclass
class Reported:
    """What the operator has been told: the unusable and the held files the last observation listed."""

    unusable: set[str] = field(default_factory=set)
    held: set[str] = field(default_factory=set)


def _listed(metadata: Mapping[str, object], key: str) -> set[str]:
    listed = metadata.get(key)
    return {entry["file"] for entry in getattr(listed, "data", None) or [] if isinstance(entry, dict)}


def previously_reported(instance: dg.DagsterInstance) -> Reported:
    """The files the latest observation listed: already reported to the operator."""
    records = instance.fetch_observations(LANDING_ZONE_KEY, limit=1).records
    if not records or records[0].asset_observation is None:
        return Reported()
    metadata = records[0].asset_observation.metadata
    return Reported(_listed(metadata, UNRECOGNISED), _listed(metadata, HELD))


def _alert(name: str, root: Path, reason: str, *, mislabelled: bool) -> dict[str, str]:
    if mislabelled:
        kind = "mislabelled_landing_file"
        action = "left in place, not loaded: rename it as the reason says (or recompress it)"
    else:
        kind = "unrecognised_landing_file"
        action = "left in place, never loaded: rename it to a landing file name, or remove it"
    return {"kind": kind, "file": name, "path": str(root / name), "reason": reason, "action": action}


def report(
    context: dg.SensorEvaluationContext,
    notifier: AlertNotifier,
    root: Path,
    found: Findings,
    previous: Reported,
) -> list[dg.AssetObservation]:
    """One alert per newly unusable file; an observation when the picture changed."""
    unusable = found.unusable
    for name in sorted(set(unusable) - previous.unusable):
        error = notifier.send(_alert(name, root, unusable[name], mislabelled=name in found.mislabelled))
        context.log.warning(f"{root / name} is not usable: {unusable[name]}. Left in place.")
        if error is not None:
            context.log.error(error)
    for name in sorted(set(found.held) - previous.held):
        context.log.warning(f"{root / name} is not loaded: {found.held[name]}.")
    if set(unusable) == previous.unusable and set(found.held) == previous.held and not found.quarantined:
        return []
    listed = [
        {"file": name, "reason": reason} | ({"kind": "mislabelled"} if name in found.mislabelled else {})
        for name, reason in sorted(unusable.items())
    ]
    held = [{"file": name, "reason": reason} for name, reason in sorted(found.held.items())]
    return [
        dg.AssetObservation(
            asset_key=LANDING_ZONE_KEY,
            description=f"{len(listed)} unusable file(s) in {root}; {len(held)} held; "
            f"{len(found.quarantined)} quarantined now.",
            metadata={
                UNRECOGNISED: dg.MetadataValue.json(listed),
                "unrecognised_count": len(listed),
                HELD: dg.MetadataValue.json(held),
                "held_count": len(held),
                "quarantined_by_sensor": dg.MetadataValue.json(list(found.quarantined)),
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
        "reason": f"incomplete (empty, or cut mid-record) and unchanged for over {limit:.0f} s",
        "action": "moved to quarantine beside a note; drop the complete file under the same name",
    }
    error = notifier.send(alert)
    context.log.warning(f"{path} has been incomplete and unchanged for over {limit:.0f} s; quarantining it.")
    if error is not None:
        context.log.error(error)
