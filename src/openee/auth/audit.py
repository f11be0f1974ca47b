"""The audit log: one JSON object per line in `<data dir>/audit.log`.

Records who did what, when and in which project: token grants and refusals, and changes to
service accounts and keys. Callers pass identifiers only (e-mails, key ids, scopes, addresses);
never a token, an assertion or key material.
"""

from __future__ import annotations

import json
import os
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


class AuditLog:
    """Appends audit events to a JSON-lines file. Safe to share between threads and processes."""

    def __init__(self, path: Path) -> None:
        """Creates the log; the file is created (mode 0600) on the first event.

        Args:
            path: The log file.
        """
        self.path = Path(path)
        self._lock = threading.Lock()

    def record(self, event: str, **fields: Any) -> None:
        """Appends one event.

        Args:
            event: What happened, e.g. `token.grant`.
            **fields: Identifiers describing it (`principal`, `project`, `client`, ...).
        """
        entry = {"time": datetime.now(UTC).isoformat(timespec="milliseconds"), "event": event}
        entry.update(fields)
        line = (json.dumps(entry, sort_keys=False, default=str) + "\n").encode("utf-8")
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                # One write of a whole line: O_APPEND keeps lines from concurrent writers apart.
                os.write(fd, line)
            finally:
                os.close(fd)
