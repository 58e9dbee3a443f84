"""Moving a landing file never loses bytes: a file written to while it is quarantined stays (or
comes back) under its landing name, whole; the archive's snapshot is of one version or none.

The writer is simulated at the exact moment that matters — while the file is hashed, copied, or
right after its landing name is removed — by wrapping the function that runs then, so each race
is reproduced every time rather than by chance.
"""

import hashlib
import os

import pytest

from pipeline.landing import archive, quarantine
from pipeline.landing.quarantine import NOTE_SUFFIX, FileChangedWhileMoving

ROWS = b"year,month\n2013,1\n2013,1\n"


@pytest.fixture
def landed(tmp_path):
    path = tmp_path / "landing" / "flights_2013-01.csv"
    path.parent.mkdir()
    path.write_bytes(ROWS)
    return path


def _append_when_called(module, name: str, path, more: bytes, monkeypatch, times: int = 1):
    """Make ``module.name`` append ``more`` to ``path`` (as a writer would) on its first calls."""
    real = getattr(module, name)
    calls = []

    def wrapped(*args, **kwargs):
        result = real(*args, **kwargs)
        if len(calls) < times:
            calls.append(1)
            with open(path, "ab") as writer:
                writer.write(more)
        return result

    monkeypatch.setattr(module, name, wrapped)


def test_a_file_written_to_while_it_is_hashed_stays_in_place(landed, tmp_path, monkeypatch):
    _append_when_called(quarantine, "sha256_of", landed, b"2013,1\n", monkeypatch)

    with pytest.raises(FileChangedWhileMoving):
        quarantine.quarantine(landed, tmp_path / "quarantine", reason="incomplete")

    assert landed.read_bytes() == ROWS + b"2013,1\n"
    assert list((tmp_path / "quarantine").iterdir()) == []  # no file, no note


def test_a_file_written_to_after_its_name_was_removed_comes_back_whole(landed, tmp_path, monkeypatch):
    real_unlink = os.unlink
    with open(landed, "ab") as open_writer:  # the writer still has the file open

        def unlink_then_write(path, *args, **kwargs):
            real_unlink(path, *args, **kwargs)
            if str(path) == str(landed):
                open_writer.write(b"2013,1\n")
                open_writer.flush()

        monkeypatch.setattr(quarantine.os, "unlink", unlink_then_write)
        with pytest.raises(FileChangedWhileMoving):
            quarantine.quarantine(landed, tmp_path / "quarantine", reason="incomplete")

    assert landed.read_bytes() == ROWS + b"2013,1\n"
    assert list((tmp_path / "quarantine").iterdir()) == []


def test_a_quarantined_file_matches_its_note(landed, tmp_path):
    moved = quarantine.quarantine(landed, tmp_path / "quarantine", reason="incomplete")

    note = quarantine.json.loads(moved.note_path.read_text())
    assert not landed.exists()
    assert moved.note_path.name == moved.path.name + NOTE_SUFFIX
    assert (note["size_bytes"], note["sha256"]) == (len(ROWS), hashlib.sha256(ROWS).hexdigest())
    assert moved.path.read_bytes() == ROWS


def test_a_copy_across_file_systems_of_a_changing_file_is_thrown_away(landed, tmp_path, monkeypatch):
    destination = tmp_path / "copy.csv"
    before = os.stat(landed)
    expected = (before.st_size, before.st_mtime_ns, before.st_ino)
    hashed = hashlib.sha256(ROWS).hexdigest()
    _append_when_called(quarantine.hashlib, "sha256", landed, b"2013,1\n", monkeypatch)

    with pytest.raises(FileChangedWhileMoving):
        quarantine._copy_verified(landed, destination, expected, hashed)

    assert not destination.exists()
    assert landed.read_bytes() == ROWS + b"2013,1\n"


def test_a_snapshot_of_a_changing_file_is_taken_again(landed, tmp_path, monkeypatch):
    monkeypatch.setattr(archive, "SNAPSHOT_RETRY_SECONDS", 0)
    _append_when_called(archive.os, "fstat", landed, b"2013,1\n", monkeypatch, times=1)

    snapshot = archive.take_snapshot(landed, tmp_path / "archive")

    assert snapshot.path.read_bytes() == landed.read_bytes() == ROWS + b"2013,1\n"
    assert snapshot.sha256 == hashlib.sha256(ROWS + b"2013,1\n").hexdigest()
    assert [p.name for p in (tmp_path / "archive" / archive.INCOMING_DIR).iterdir()] == [snapshot.path.name]


def test_a_file_that_keeps_changing_is_not_snapshotted_and_stays(landed, tmp_path, monkeypatch):
    monkeypatch.setattr(archive, "SNAPSHOT_RETRY_SECONDS", 0)
    _append_when_called(archive.os, "fstat", landed, b"2013,1\n", monkeypatch, times=100)

    with pytest.raises(FileChangedWhileMoving, match="kept changing while it was copied"):
        archive.take_snapshot(landed, tmp_path / "archive")

    assert landed.read_bytes().startswith(ROWS)
    assert list((tmp_path / "archive" / archive.INCOMING_DIR).iterdir()) == []
