"""Which algorithms a process has called: for the test suite's coverage check.

Off unless the environment variable OPENEE_RECORD_ALGORITHMS names a path. Then every algorithm
the evaluator calls is added to a process-wide set, and each name, the first time it is called,
is appended to that path, or, when the path is an existing directory, to `algorithms-<pid>.txt`
inside it (so that several processes, e.g. the test servers, can share one directory). Names are
written as they come rather than at exit because a server stopped by SIGTERM does not run atexit
handlers (uvicorn re-raises the signal after its graceful shutdown).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

ENV_VAR = "OPENEE_RECORD_ALGORITHMS"

_called: set[str] = set()
_lock = threading.Lock()
_target: Path | None = None
_started = False


def _start() -> None:
    global _target, _started
    _started = True
    value = os.environ.get(ENV_VAR)
    if value:
        path = Path(value)
        _target = path / f"algorithms-{os.getpid()}.txt" if path.is_dir() else path


def record(name: str) -> None:
    """Note that algorithm `name` was called (a no-op unless recording is on)."""
    if name in _called:
        return
    with _lock:
        if not _started:
            _start()
        if _target is None or name in _called:
            return
        _called.add(name)
        try:
            with _target.open("a") as out:
                out.write(f"{name}\n")
        except OSError:  # the directory is gone (the test run that wanted it has ended)
            pass


def called() -> frozenset[str]:
    """The algorithms called so far in this process (while recording is on)."""
    return frozenset(_called)
