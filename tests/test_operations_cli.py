"""`openee operations list|watch` on a data dir's operations store."""

from __future__ import annotations

from pathlib import Path

import pytest

from openee.cli import main
from openee.services.operations import SUCCEEDED, OperationStore
from openee.settings import DEFAULT_PROJECT


def test_list_and_watch_show_progress_bars(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    store = OperationStore(tmp_path / "operations.sqlite")
    running, _ = store.create(DEFAULT_PROJECT, "EXPORT_IMAGE", "half", "me", None)
    store.start(running.id)
    store.update_metadata(
        running.id,
        progress=0.5,
        stages=[{"displayName": "Export image", "completeWorkUnits": 2, "totalWorkUnits": 4}],
    )
    done, _ = store.create(DEFAULT_PROJECT, "EXPORT_FEATURES", "done", "me", None)
    store.start(done.id)
    store.finish(done.id, SUCCEEDED)
    store.close()

    assert main(["operations", "--data-dir", str(tmp_path), "list"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(done.id) and "SUCCEEDED" in out[0] and "100%" in out[0]
    assert out[1].startswith(running.id)
    assert f"[{'#' * 15}{'.' * 15}]  50%  2/4 chunks" in out[1]

    assert main(["operations", "--data-dir", str(tmp_path), "watch", done.id]) == 0
    assert "SUCCEEDED" in capsys.readouterr().out
    assert main(["operations", "--data-dir", str(tmp_path), "watch", "NOPE"]) == 1
