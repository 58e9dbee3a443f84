"""A correction in the other compression replaces the loaded version in the landing folder.

``readings_2013-03.csv`` was loaded; ``readings_2013-03.csv.gz`` lands with new content. Both are
one delivery, and the raw asset reads either name but never both (``AmbiguousDelivery``, in
pipeline/landing/load.py). Which of them the warehouse holds is known: the partition's latest
materialization records the SHA-256 of the file it loaded (``source_files``, read by loaded.py).
So the other one is the correction: before its run is requested, the loaded file is retired into
the archive (``archive.retire``; its load put the same bytes there already, nothing is lost) and
the correction loads alone. Two files of one delivery neither of which is the loaded version are
still ambiguous: the run fails naming both, as before.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping, Sequence

import dagster as dg

from pipeline.automation.delivery import LandingFile
from pipeline.landing import archive
from pipeline.landing.names import COMPRESSED_SUFFIX
from pipeline.landing.quarantine import FileChangedWhileMoving
from pipeline.landing.resources import LandingZone


def delivery_of(file_name: str) -> str:
    """The delivery a landing file stands for, by its plain ``.csv`` name."""
    return file_name.removesuffix(COMPRESSED_SUFFIX)


def retire_replaced(
    context: dg.SensorEvaluationContext,
    landing: LandingZone,
    pending: Sequence[LandingFile],
    loaded_versions: Mapping[str, LandingFile],
    unchanged: MutableMapping[tuple[str, str], LandingFile],
) -> tuple[list[LandingFile], list[str]]:
    """The pending files that may be requested now, after retiring each loaded version under the
    other name that they replace; and notes on any that must wait (its loaded version could not be
    moved: it is being written to). ``loaded_versions``: delivery -> the ready file the warehouse
    holds, loaded by no run in flight; ``unchanged``: the possible riders, of which a retired file
    is no longer one."""
    requestable, notes = [], []
    for file in pending:
        loaded = loaded_versions.get(delivery_of(file.name))
        if loaded is None or loaded.name == file.name:
            requestable.append(file)
            continue
        try:
            kept = archive.retire(landing.root / loaded.name, landing.archive_root, loaded.sha256)
        except (FileChangedWhileMoving, FileNotFoundError) as error:
            notes.append(
                f"{file.name} waits: {loaded.name}, the version it replaces, was not archived ({error})."
            )
            continue
        if loaded.partition_key is not None:
            unchanged.pop((loaded.table, loaded.partition_key), None)
        context.log.info(
            f"{file.name} replaces the loaded {loaded.name}: that file left the landing folder for the "
            f"archive ({kept.path}); {file.name} loads in its place."
        )
        requestable.append(file)
    return requestable, notes
