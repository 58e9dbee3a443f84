"""A landed file refused by the load: quarantined with a note of its problems, and the error
that fails the load naming every such file (``load.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeline.files import sha256_of
from pipeline.landing import archive
from pipeline.landing.ingest import MAX_PROBLEMS_REPORTED
from pipeline.landing.quarantine import Problem, QuarantinedFile, quarantine
from pipeline.landing.resources import LandingZone


@dataclass(frozen=True)
class Rejection:
    original_path: Path
    problems: Sequence[Problem]
    quarantined: QuarantinedFile

    def describe(self) -> str:
        shown = [f"  - {problem}" for problem in self.problems[:MAX_PROBLEMS_REPORTED]]
        hidden = len(self.problems) - len(shown)
        more = [f"  - ... and {hidden} more (see the note)"] if hidden > 0 else []
        return "\n".join(
            [
                f"{self.original_path} was rejected "
                f"({len(self.problems)} problem{'s' if len(self.problems) != 1 else ''}):",
                *shown,
                *more,
                f"  moved to {self.quarantined.path}",
                f"  reason in {self.quarantined.note_path}",
            ]
        )


class RejectedLandingFiles(ValueError):
    """One or more landed files failed validation and were quarantined."""

    def __init__(self, rejections: Sequence[Rejection]):
        self.rejections = list(rejections)
        super().__init__(
            "\n".join(
                [
                    *(rejection.describe() for rejection in self.rejections),
                    "Nothing was loaded: the warehouse is unchanged. Drop a corrected file under "
                    "the same name to load it.",
                ]
            )
        )


def reject(
    landed: Path,
    snapshot: archive.Snapshot | None,
    problems: list[Problem],
    landing_zone: LandingZone,
    run_id: str | None,
) -> Rejection:
    """Quarantine what was checked: the landing file, or the copy if the file changed since."""
    reason = "; ".join(str(problem) for problem in problems[:MAX_PROBLEMS_REPORTED])
    if snapshot is None or sha256_of(landed) == snapshot.sha256:
        quarantined = quarantine(
            landed, landing_zone.quarantine_root, reason=reason, problems=problems, run_id=run_id
        )
        if snapshot is not None:
            archive.discard(snapshot)
    else:  # upstream replaced the file meanwhile: keep the new one for the next run
        quarantined = quarantine(
            snapshot.path,
            landing_zone.quarantine_root,
            reason=reason,
            problems=problems,
            run_id=run_id,
            original_path=landed,
        )
    return Rejection(landed, problems, quarantined)
