"""Files nobody will read again, removed (issue 16): what a killed import or ingest left half
written, and the mosaic an overwriting import replaced.

Temporaries are named `.<target>.<pid>.partial`, `.<target>.<pid>.merge.tif` (and GDAL's
`<that>.ovr.tmp` beside them); one is removed when the process that made it is gone, or when it
is a day old. A replaced mosaic (a file under the mosaic directory, named after the operation
that made it) is removed once no asset reads it (`CatalogStore.assets_using`; copies share files).
"""

from __future__ import annotations

import logging
import os
import re
import time
from pathlib import Path

from openee.catalog.model import AssetRecord
from openee.catalog.store import CatalogStore

_TEMPORARY = re.compile(r"^\..+\.(?P<pid>\d+)\.(partial|merge\.tif)(\.ovr\.tmp|\.msk)?$")
MAX_AGE_S = 24 * 3600
_log = logging.getLogger("openee.orphans")


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_temporaries(data_dir: Path, pids_are_local: bool = True) -> int:
    """Remove the temporaries of dead processes under `data_dir`; returns how many. When other
    machines may write there too (replicas on a shared data dir), a process id says nothing
    about their processes: pass `pids_are_local=False` and only day-old ones go."""
    removed = 0
    now = time.time()
    for folder, _, files in os.walk(data_dir):
        for name in files:
            match = _TEMPORARY.match(name)
            if match is None:
                continue
            path = Path(folder, name)
            try:
                old = now - path.lstat().st_mtime > MAX_AGE_S
                if old or (pids_are_local and not _alive(int(match["pid"]))):
                    path.unlink()
                    removed += 1
            except OSError:
                continue
    if removed:
        _log.info("removed %d temporary files left by interrupted imports", removed)
    return removed


def record_files(record: AssetRecord | None) -> set[str]:
    """The files an asset reads (its bands', their masks' and its sources)."""
    return set(record.files) if record is not None else set()


def sweep_replaced(store: CatalogStore, replaced: set[str], mosaic_root: Path) -> int:
    """Remove the files of `replaced` that openee made (under `mosaic_root`) and that no asset
    reads any more; returns how many."""
    removed = 0
    root = Path(os.path.realpath(mosaic_root))
    for name in sorted(replaced):
        path = Path(os.path.realpath(name))
        if root not in path.parents or store.assets_using(name):
            continue
        try:
            path.unlink()
            removed += 1
        except OSError:
            continue
    return removed
