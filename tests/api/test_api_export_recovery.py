"""A server starting on a data dir where a killed server left a set half published (its
journal in the export's staging folder) undoes it before anything else runs
(docs/decisions/0044)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from openee.api.app import create_app
from openee.services import publish
from openee.services.destinations import bucket_destination, staging_dir
from openee.settings import Settings


class _Killed(BaseException):
    pass


def test_a_half_published_set_is_gone_after_a_restart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    bucket = data / "buckets" / "results"
    bucket.mkdir(parents=True)
    (bucket / "keep.txt").write_bytes(b"not the export's")
    staged = []
    for i, suffix in enumerate(["-0000000000-0000000000.tif", "-0000000000-0000000256.tif"]):
        path = tmp_path / f"part-{i}"
        path.write_bytes(b"pixels" * (i + 1))
        staged.append((path, suffix))
    receipt = tmp_path / "receipt"
    receipt.write_bytes(b"{}")
    staged.append((receipt, ".receipt.json"))
    journal = staging_dir(data, "op1") / publish.JOURNAL
    journal.parent.mkdir(parents=True)

    real, renamed = os.replace, []

    def replace(src: Any, dst: Any) -> None:
        if not str(dst).endswith(publish.JOURNAL) and renamed:
            raise _Killed()  # the process dies after the first file is in place
        if not str(dst).endswith(publish.JOURNAL):
            renamed.append(dst)
        real(src, dst)

    monkeypatch.setattr(publish.os, "replace", replace)
    monkeypatch.setattr(publish, "_undo_local", lambda *args: None)
    with pytest.raises(_Killed):
        bucket_destination(data, (), "results", "out/m").publish(staged, journal)
    monkeypatch.undo()
    assert (bucket / "out" / "m-0000000000-0000000000.tif").exists()  # half a set is visible

    with TestClient(create_app(Settings(data_dir=data, auth_enabled=False))):
        pass  # a start (the recovery), then the shutdown
    assert sorted(p.relative_to(bucket).as_posix() for p in bucket.rglob("*")) == ["keep.txt"]
    assert not journal.parent.exists()
