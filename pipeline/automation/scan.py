"""The landing folder as one evaluation of the landing sensor sees it.

Every entry is classified by name (``classify_landing_file``, pipeline/landing/names.py) and, for
a landing file, by readiness (pipeline/automation/readiness.py): ready (and hashed), still
arriving, incomplete and waited for, overdue, or mislabelled (compressed otherwise than named).
Names it does not recognise, mislabelled files, links and folders are listed, never touched. A
ready file is *held* while a look-alike of its name (``readings_2013-03 (part 2).csv``: a possible
second part) or a mislabelled file of the same delivery is in the folder. Complete files for a
month outside the partitions, and files incomplete past the limit (after the operator is told),
are quarantined here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.automation import zone_observations as zone
from pipeline.automation.alerts import AlertNotifier
from pipeline.automation.readiness import ReadinessSettings, Seen, State, identify, now, observe
from pipeline.landing.landed_tables import LandedTables, describe_delivery
from pipeline.landing.names import FileKind, classify_landing_file
from pipeline.landing.quarantine import FileChangedWhileMoving, quarantine
from pipeline.landing.resources import LandingZone
from pipeline.partitions import monthly_partitions

SENSOR_NAME = "landing_sensor"


@dataclass
class Look:
    """One evaluation's view of the landing folder."""

    ready: dict[str, tuple[object, Seen]] = field(default_factory=dict)  # name -> (class, hashed)
    settling: list[str] = field(default_factory=list)
    incomplete: list[str] = field(default_factory=list)
    overdue: list[tuple[Path, Seen]] = field(default_factory=list)
    unrecognised: dict[str, str] = field(default_factory=dict)
    mislabelled: dict[str, str] = field(default_factory=dict)
    held: dict[str, str] = field(default_factory=dict)  # ready file -> why it is not loaded
    out_of_range: list[tuple[Path, str]] = field(default_factory=list)
    partial: list[str] = field(default_factory=list)
    oldest_mtime: dict[str, float] = field(default_factory=dict)


def look(
    root: Path,
    landed: LandedTables,
    previous: dict[str, Seen],
    current: dict[str, Seen],
    settings: ReadinessSettings,
) -> Look:
    """Classify every entry of the landing folder; ``current`` receives what to remember of each file."""
    found = Look()
    partition_keys = set(monthly_partitions.get_partition_keys())
    moment = now()
    holders: dict[str, list[str]] = {}  # delivery -> look-alikes and mislabelled files of it
    for entry in sorted(os.scandir(root), key=lambda entry: entry.name):
        file_class = classify_landing_file(entry.name, partition_keys, landed)
        if file_class.kind is FileKind.PARTIAL:
            found.partial.append(entry.name)
            continue
        if file_class.kind is FileKind.UNEXPECTED:
            found.unrecognised[entry.name] = file_class.reason or "not a landing file name"
            if file_class.look_alike_of:
                holders.setdefault(file_class.look_alike_of, []).append(entry.name)
            continue
        if entry.is_symlink() or not entry.is_file():
            found.unrecognised[entry.name] = "not a regular file (landing files may not be links or folders)"
            continue
        path = Path(entry.path)
        try:
            state, seen = observe(path, os.stat(path), previous.get(entry.name), settings, moment, landed)
            if state is State.READY:
                hashed = identify(path, seen)
                state, seen = (State.READY, hashed) if hashed else (State.SETTLING, seen)
        except FileNotFoundError:
            continue  # moved away while we looked
        current[entry.name] = seen
        if state is State.MISLABELLED:
            found.mislabelled[entry.name] = seen.mislabelled or "compressed otherwise than named"
            holders.setdefault(file_class.delivery or entry.name, []).append(entry.name)
        elif state is State.OVERDUE:
            found.overdue.append((path, seen))
        elif state is State.INCOMPLETE:
            found.incomplete.append(entry.name)
        elif state is State.SETTLING:
            found.settling.append(entry.name)
        elif file_class.kind is FileKind.OUT_OF_RANGE:
            found.out_of_range.append((path, file_class.reason or "outside the partitions"))
        else:
            found.ready[entry.name] = (file_class, seen)
            found.oldest_mtime[entry.name] = seen.mtime_ns / 1e9
    _hold(found, holders)
    return found


def _hold(found: Look, holders: dict[str, list[str]]) -> None:
    """Ready files whose delivery another file in the folder may be part of are held, not loaded."""
    for name, (file_class, _seen) in list(found.ready.items()):
        others = [other for other in holders.get(file_class.delivery, []) if other != name]
        if not others:
            continue
        what = describe_delivery(file_class.delivery)
        parts = [
            f"possible second part of {what}: {other}" for other in others if other in found.unrecognised
        ]
        parts += [
            f"{other} is {what} compressed otherwise than named"
            for other in others
            if other in found.mislabelled
        ]
        found.held[name] = (
            f"held, not loaded, while {', '.join(others)} {'is' if len(others) == 1 else 'are'} here ({'; '.join(parts)})"
        )
        del found.ready[name], found.oldest_mtime[name]


def quarantine_by_sensor(
    context, notifier: AlertNotifier, landing: LandingZone, look: Look, settings: ReadinessSettings
) -> list[dict]:
    """Out-of-range months and files incomplete past the limit go to quarantine (the latter after
    the operator is told); a file written to meanwhile stays, and is looked at again next time."""
    moves = [(path, f"{reason}; quarantined by {SENSOR_NAME}") for path, reason in look.out_of_range]
    for path, seen in look.overdue:
        zone.tell_overdue(context, notifier, path, seen.size, settings.incomplete_limit_seconds)
        limit = settings.incomplete_limit_seconds
        moves.append((path, f"incomplete (empty, or cut mid-record) and unchanged for over {limit:.0f} s"))
    done = []
    for path, reason in moves:
        try:
            moved = quarantine(path, landing.quarantine_root, reason=reason)
        except FileChangedWhileMoving as error:
            context.log.warning(f"Not quarantined, it is being written to: {error}")
            continue
        context.log.warning(f"Quarantined {path}: {reason}. Moved to {moved.path}.")
        done.append({"file": path.name, "reason": reason, "quarantined_path": str(moved.path)})
    return done
