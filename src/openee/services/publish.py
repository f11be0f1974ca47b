"""Publishing an export's set of files (shards, SHP sidecars, a map pyramid, and the receipt,
always last) so that the set appears at its destination whole or not at all
(docs/decisions/0044).

Local folders (a bucket mapped to a folder, the default bucket folders, Drive folders):

1. prepare: every file is copied beside its target under a hidden temporary name
   (`.<name>.<token>.partial`) and fsynced; folders the set needs are created. A failure here
   (disk full, a directory where a file goes) removes the temporaries and the folders made:
   nothing was visible.
2. commit: each temporary is renamed over its target, the receipt last; a target that existed
   is first moved aside (`.<name>.<token>.previous`). Renames need no space and take
   microseconds. A failure here puts everything back: the targets renamed are removed, the
   previous files restored.

A journal in the operation's staging folder (`publish.json`: the plan, then `prepared`, then
`committed`) lets a server killed mid-publish undo it when it starts again
(`recover_publications`): before `prepared` only temporaries exist; after it, a target whose
temporary is gone was renamed, hence ours. A set is therefore all-or-nothing across a crash too,
once the server has started again; in between, a set without its receipt is incomplete.

Object stores (fsspec): objects are put under their final names one by one, the receipt last
(the journal counts them); on a failure every object put is deleted again. A store has no
rename, so while a publish runs, and after a crash until the restart's recovery, readers may see
part of a set without its receipt; objects the set overwrote are not restored (and after a
crash, the one being put when it happened is deleted whether or not it had landed).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openee.errors import FailedPreconditionError

log = logging.getLogger("openee.exports")

JOURNAL = "publish.json"


def _write_journal(journal: Path | None, state: dict[str, Any]) -> None:
    if journal is None:
        return
    temporary = journal.with_name(journal.name + ".partial")
    temporary.write_text(json.dumps(state))
    os.replace(temporary, journal)


@dataclass(frozen=True)
class _Entry:
    target: Path
    temporary: Path
    previous: Path


def _entries(targets: Sequence[Path], token: str) -> list[_Entry]:
    return [
        _Entry(
            t,
            t.with_name(f".{t.name}.{token}.partial"),
            t.with_name(f".{t.name}.{token}.previous"),
        )
        for t in targets
    ]


def _missing_folders(targets: Sequence[Path]) -> list[Path]:
    """The folders the targets need that do not exist yet, parents first."""
    missing: dict[Path, None] = {}
    for target in targets:
        chain = []
        folder = target.parent
        while not folder.exists() and folder != folder.parent:
            chain.append(folder)
            folder = folder.parent
        for made in reversed(chain):
            missing[made] = None
    return list(missing)


def _undo_local(entries: Sequence[_Entry], folders: Sequence[Path], prepared: bool) -> None:
    """Puts a local destination back as it was before the publish."""
    for entry in reversed(entries):
        if entry.temporary.exists():
            entry.temporary.unlink()  # never renamed into place
        elif prepared and entry.target.is_file():
            entry.target.unlink()  # its temporary was renamed: the target is ours
        if entry.previous.exists():
            os.replace(entry.previous, entry.target)
    for folder in reversed(folders):
        with contextlib.suppress(OSError):  # only if empty: one filled meanwhile stays
            folder.rmdir()


def publish_local(files: Sequence[tuple[Path, Path]], journal: Path | None) -> None:
    """Publishes (staged file, target) pairs, the last one last, all or nothing."""
    entries = _entries([target for _, target in files], uuid.uuid4().hex[:12])
    folders = _missing_folders([e.target for e in entries])
    state: dict[str, Any] = {
        "kind": "local",
        "files": [[str(e.target), str(e.temporary), str(e.previous)] for e in entries],
        "folders": [str(f) for f in folders],
        "prepared": False,
        "committed": False,
    }
    _write_journal(journal, state)
    prepared = False
    try:
        for folder in folders:
            folder.mkdir(exist_ok=True)
        for (staged, _), entry in zip(files, entries, strict=True):
            if entry.target.is_dir():
                raise IsADirectoryError(21, "a folder has the file's name", str(entry.target))
            shutil.copyfile(staged, entry.temporary)
            with open(entry.temporary, "rb+") as f:
                os.fsync(f.fileno())
        state["prepared"] = prepared = True
        _write_journal(journal, state)
        for entry in entries:
            if entry.target.exists():
                os.replace(entry.target, entry.previous)
            os.replace(entry.temporary, entry.target)
        state["committed"] = True
        _write_journal(journal, state)
    except BaseException as exc:
        try:
            _undo_local(entries, folders, prepared)
        except OSError:
            log.exception("undoing a failed export publish left files behind")
        if isinstance(exc, OSError):
            where = exc.filename or (entries[0].target if entries else "")
            raise FailedPreconditionError(
                f"Writing '{where}' failed: {type(exc).__name__}: {exc.strerror or exc}"
            ) from None
        raise
    for entry in entries:
        entry.previous.unlink(missing_ok=True)


def publish_objects(
    fs: Any,
    files: Sequence[tuple[Path, str]],
    journal: Path | None,
    root: str,
    uri_of: Callable[[str], str],
) -> None:
    """Puts (staged file, object path) pairs, the last one last; on a failure deletes what it
    put. `uri_of` names an object path to the user."""
    keys = [key for _, key in files]
    state: dict[str, Any] = {"kind": "objects", "root": root, "keys": keys, "put": 0}
    _write_journal(journal, state)
    put: list[str] = []
    try:
        for staged, key in files:
            try:
                parent = key.rsplit("/", 1)[0]
                if parent:
                    fs.makedirs(parent, exist_ok=True)
                fs.put_file(str(staged), key)
            except Exception as exc:  # object-store clients raise their own types
                log.warning("export publish to %s failed", uri_of(key), exc_info=True)
                raise FailedPreconditionError(
                    f"Writing '{uri_of(key)}' failed: {type(exc).__name__}: {exc}"
                ) from None
            put.append(key)
            state["put"] = len(put)
            _write_journal(journal, state)
        state["committed"] = True
        _write_journal(journal, state)
    except BaseException as exc:
        left = _delete_objects(fs, put)
        if left and isinstance(exc, FailedPreconditionError):
            raise FailedPreconditionError(
                f"{exc.message} {len(left)} objects already written could not be removed: "
                + ", ".join(uri_of(k) for k in left[:5])
            ) from None
        raise


def _delete_objects(fs: Any, keys: Sequence[str]) -> list[str]:
    """Deletes what exists of `keys`; the ones that could not be deleted."""
    left = []
    for key in keys:
        try:
            if fs.exists(key):
                fs.rm_file(key)
        except Exception:  # a store that is down: reported, retried by the next start
            left.append(key)
    return left


def recover_publications(staging_root: Path, open_fs: Callable[[str], tuple[Any, str]]) -> None:
    """Undoes the publishes a killed server left half done (their journals say so), before
    anything else runs: local sets are put back as they were, objects put are deleted."""
    if not staging_root.is_dir():
        return
    for journal in staging_root.glob(f"*/{JOURNAL}"):
        try:
            state = json.loads(journal.read_text())
        except (OSError, ValueError):
            continue
        if state.get("committed"):
            continue
        try:
            if state.get("kind") == "local":
                entries = [_Entry(Path(t), Path(p), Path(b)) for t, p, b in state["files"]]
                folders = [Path(f) for f in state["folders"]]
                _undo_local(entries, folders, bool(state.get("prepared")))
            elif state.get("kind") == "objects":
                fs, _ = open_fs(state["root"])
                # The objects put, and the one being put when the server stopped.
                left = _delete_objects(fs, state["keys"][: int(state["put"]) + 1])
                if left:
                    log.warning("objects of an interrupted export remain: %s", left[:5])
                    continue  # the journal stays: the next start tries again
        except Exception:
            log.exception("recovering the interrupted export publish %s failed", journal)
            continue
        journal.unlink(missing_ok=True)
