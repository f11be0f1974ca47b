"""A set of export files appears at its destination whole or not at all (docs/decisions/0044):
a destination that fails on the Nth write (every N), or a server killed at the Nth step and
started again, leaves the destination exactly as it was before (compared with a listing taken
before the publish: names and bytes)."""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path
from typing import Any

import fsspec
import pytest

from openee.errors import FailedPreconditionError
from openee.services import publish
from openee.services.destinations import bucket_destination, recover, staging_dir

# Shards, a map-like nested part, and the receipt last (as exports publish them).
SUFFIXES = [
    "-0000000000-0000000000.tif",
    "-0000000000-0000000256.tif",
    "-0000000256-0000000000.tif",
    "/3/4/5",
    ".receipt.json",
]


class _Crash(BaseException):
    """The process dying: nothing after it runs (the undo is switched off as well)."""


def _staged(tmp_path: Path) -> list[tuple[Path, str]]:
    folder = tmp_path / "staged"
    folder.mkdir()
    files = []
    for i, suffix in enumerate(SUFFIXES):
        path = folder / f"part-{i}"
        path.write_bytes(bytes([i]) * (1000 + i))
        files.append((path, suffix))
    return files


def _listing(root: Path) -> dict[str, bytes | None]:
    """Every file (with its bytes) and folder under root."""
    if not root.exists():
        return {}
    return {
        str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None)
        for p in sorted(root.rglob("*"))
    }


def _destination(tmp_path: Path) -> tuple[Any, Path]:
    """A bucket folder holding an older copy of one of the set's files and an unrelated file."""
    bucket = tmp_path / "buckets" / "bkt"
    (bucket / "out").mkdir(parents=True)
    (bucket / "out" / "x-0000000000-0000000256.tif").write_bytes(b"old version")
    (bucket / "out" / "unrelated.txt").write_bytes(b"someone else's")
    return bucket_destination(tmp_path, (), "bkt", "out/x"), bucket


def _failing_at(n: int, real: Any, error: BaseException) -> Any:
    calls = {"count": 0}

    def call(*args: Any, **kwargs: Any) -> Any:
        calls["count"] += 1
        if calls["count"] == n:
            raise error
        return real(*args, **kwargs)

    return call


def test_a_complete_publish_replaces_the_set(tmp_path: Path) -> None:
    dest, bucket = _destination(tmp_path)
    files = _staged(tmp_path)
    journal = staging_dir(tmp_path, "op") / publish.JOURNAL
    journal.parent.mkdir(parents=True)
    dest.publish(files, journal)
    after = _listing(bucket)
    for staged, suffix in files:
        assert after[f"out/x{suffix}"] == staged.read_bytes()
    assert after["out/unrelated.txt"] == b"someone else's"
    assert not [name for name in after if "/." in name or name.startswith(".")]  # no temporaries


# Renames: one per file, plus one moving the older copy aside.
@pytest.mark.parametrize("n", range(1, len(SUFFIXES) + 2))
def test_a_rename_failing_at_the_nth_leaves_the_destination_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, n: int
) -> None:
    dest, bucket = _destination(tmp_path)
    before = _listing(bucket)
    failing = _failing_at(n, os.replace, OSError(errno.EIO, "Input/output error"))
    monkeypatch.setattr(publish.os, "replace", failing)
    with pytest.raises(FailedPreconditionError, match="Input/output error"):
        dest.publish(_staged(tmp_path))
    assert _listing(bucket) == before


@pytest.mark.parametrize("n", range(1, len(SUFFIXES) + 1))
def test_a_disk_full_at_the_nth_copy_leaves_the_destination_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, n: int
) -> None:
    dest, bucket = _destination(tmp_path)
    before = _listing(bucket)

    real, calls = shutil.copyfile, {"count": 0}

    def copy(src: Any, dst: Any) -> Any:
        calls["count"] += 1
        if calls["count"] == n:
            Path(dst).write_bytes(b"x" * 10)  # half written, then the disk is full
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(src, dst)

    monkeypatch.setattr(publish.shutil, "copyfile", copy)
    with pytest.raises(FailedPreconditionError, match="No space left on device"):
        dest.publish(_staged(tmp_path))
    assert _listing(bucket) == before


def test_a_folder_where_a_file_goes_fails_before_anything_is_visible(tmp_path: Path) -> None:
    dest, bucket = _destination(tmp_path)
    (bucket / "out" / "x-0000000256-0000000000.tif").mkdir()
    before = _listing(bucket)
    with pytest.raises(FailedPreconditionError, match="IsADirectoryError"):
        dest.publish(_staged(tmp_path))
    assert _listing(bucket) == before


# A kill at every step: each of the copies (5) and of the renames (6).
KILLS = [("copy", n) for n in range(1, len(SUFFIXES) + 1)] + [
    ("replace", n) for n in range(1, len(SUFFIXES) + 2)
]


@pytest.mark.parametrize(("step", "n"), KILLS)
def test_a_server_killed_mid_publish_is_undone_when_it_starts_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: str, n: int
) -> None:
    dest, bucket = _destination(tmp_path)
    before = _listing(bucket)
    journal = staging_dir(tmp_path, "op") / publish.JOURNAL
    journal.parent.mkdir(parents=True)
    monkeypatch.setattr(publish, "_undo_local", lambda *args: None)  # it dies: no undo
    if step == "copy":
        monkeypatch.setattr(publish.shutil, "copyfile", _failing_at(n, shutil.copyfile, _Crash()))
    else:
        # The journal's own writes use os.replace too: count only the files' renames.
        real = os.replace
        calls = {"count": 0}

        def replace(src: Any, dst: Any) -> None:
            if not str(dst).endswith(publish.JOURNAL):
                calls["count"] += 1
                if calls["count"] == n:
                    raise _Crash()
            real(src, dst)

        monkeypatch.setattr(publish.os, "replace", replace)
    with pytest.raises(_Crash):
        dest.publish(_staged(tmp_path), journal)
    assert _listing(bucket) != before  # folders, temporaries or files of the set are there
    monkeypatch.undo()
    recover(tmp_path)
    assert _listing(bucket) == before
    assert not journal.exists()


def test_a_committed_publish_is_left_alone_by_recovery(tmp_path: Path) -> None:
    dest, bucket = _destination(tmp_path)
    journal = staging_dir(tmp_path, "op") / publish.JOURNAL
    journal.parent.mkdir(parents=True)
    dest.publish(_staged(tmp_path), journal)
    after = _listing(bucket)
    recover(tmp_path)
    assert _listing(bucket) == after


@pytest.fixture()
def memory_bucket() -> Any:
    fs = fsspec.filesystem("memory")
    fs.pipe("/store/ee/out/x-0000000000-0000000256.tif", b"old version")
    fs.pipe("/store/ee/unrelated.txt", b"someone else's")
    yield fs
    fs.rm("/store", recursive=True)


def _objects(fs: Any) -> dict[str, bytes]:
    return {path: fs.cat_file(path) for path in fs.find("/store")}


@pytest.mark.parametrize("n", range(1, len(SUFFIXES) + 1))
def test_an_object_store_failing_at_the_nth_put_keeps_no_object_of_the_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, memory_bucket: Any, n: int
) -> None:
    fs = memory_bucket
    dest = bucket_destination(tmp_path, (("bkt", "memory://store/ee"),), "bkt", "out/x")
    before = _objects(fs)
    failing = _failing_at(n, fs.put_file, ConnectionError("the store went away"))
    monkeypatch.setattr(fs, "put_file", failing)
    with pytest.raises(FailedPreconditionError, match="the store went away") as caught:
        dest.publish(_staged(tmp_path))
    assert f"memory://store/ee/out/x{SUFFIXES[n - 1]}" in caught.value.message
    after = _objects(fs)
    # The set's objects are gone; the older copy the set overwrote is not restored (ADR 0044).
    overwritten = "/store/ee/out/x-0000000000-0000000256.tif"
    if n > 2:
        assert after == {k: v for k, v in before.items() if k != overwritten}
    else:
        assert after == before


@pytest.mark.parametrize("n", range(1, len(SUFFIXES) + 1))
def test_an_object_publish_killed_at_the_nth_put_is_deleted_at_the_next_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, memory_bucket: Any, n: int
) -> None:
    fs = memory_bucket
    dest = bucket_destination(tmp_path, (("bkt", "memory://store/ee"),), "bkt", "out/x")
    journal = staging_dir(tmp_path, "op") / publish.JOURNAL
    journal.parent.mkdir(parents=True)
    monkeypatch.setattr(fs, "put_file", _failing_at(n, fs.put_file, _Crash()))
    monkeypatch.setattr(publish, "_delete_objects", lambda fs, keys: [])  # it dies: no undo
    with pytest.raises(_Crash):
        dest.publish(_staged(tmp_path), journal)
    monkeypatch.undo()
    recover(tmp_path)
    assert "/store/ee/out/x.receipt.json" not in _objects(fs)
    assert not [k for k in _objects(fs) if k.startswith("/store/ee/out/x-0000000256")]
    assert _objects(fs)["/store/ee/unrelated.txt"] == b"someone else's"
    assert not journal.exists()
