"""Temporaries of killed imports (`catalog/orphans.py`): on a data dir of its own a server removes
those of dead local processes; on a data dir shared with other machines (replicas, ADR 0046) a
process id names no process of theirs, so only day-old temporaries go."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from openee.catalog.orphans import MAX_AGE_S, sweep_temporaries


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_local_pids_decide_only_on_a_data_dir_of_ones_own(tmp_path: Path) -> None:
    pid = _dead_pid()
    fresh = tmp_path / f".scene.tif.{pid}.partial"
    stale = tmp_path / f".other.tif.{pid}.merge.tif"
    for path in (fresh, stale):
        path.write_bytes(b"x")
    day_old = time.time() - MAX_AGE_S - 60
    os.utime(stale, (day_old, day_old))
    assert sweep_temporaries(tmp_path, pids_are_local=False) == 1
    assert fresh.exists() and not stale.exists()
    assert sweep_temporaries(tmp_path) == 1
    assert not fresh.exists()
