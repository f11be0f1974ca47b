"""Scans a server's logs for credential material, without needing to know the credentials.

Every credential openee hands out is stored only as a SHA-256 hash in the auth database:
access tokens (43 URL-safe characters), capability ids (40 hex digits) and API keys. So every
string in the logs shaped like one of them is hashed and looked up there: a hit is a leaked
credential, and an unrelated string (a key id, an asset name) can never be one. Besides, no
JWT (an assertion) and no PEM block may appear at all, nor any line of the given private keys.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from collections.abc import Iterable
from contextlib import closing
from pathlib import Path

from openee.auth import AuthStore

# Candidate credentials: maximal runs of token characters of the issued lengths and longer
# (an API key is `AIza` + hex + URL-safe text).
_TOKENISH = re.compile(r"[A-Za-z0-9_-]{40,}")
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*")
# Longer runs (none are expected) are only checked whole, to bound the work.
_MAX_WINDOWED_RUN = 400
_HASHED_TABLES = (
    ("access_tokens", "token_hash"),
    ("capabilities", "id_hash"),
    ("api_keys", "key_hash"),
)


def issued_hashes(auth_db: Path | AuthStore) -> set[str]:
    """The hashes of every credential the auth database (a SQLite file, or a store on the
    shared state database) still knows."""
    out: set[str] = set()
    if isinstance(auth_db, AuthStore):
        with auth_db.connect(write=False) as conn:
            for table, column in _HASHED_TABLES:
                out.update(r[0] for r in conn.execute(f"SELECT {column} FROM {table}").fetchall())
        return out
    with closing(sqlite3.connect(auth_db)) as conn:
        for table, column in _HASHED_TABLES:
            out.update(r[0] for r in conn.execute(f"SELECT {column} FROM {table}"))
    return out


def _candidates(run: str) -> Iterable[str]:
    """The run itself, and every window of it as long as a token (43) or a capability id (40),
    in case a credential was glued to other token characters."""
    yield run
    if len(run) <= _MAX_WINDOWED_RUN:
        for length in (40, 43):
            for start in range(0, len(run) - length + 1):
                yield run[start : start + length]


def leaks(logs: str, auth_db: Path | AuthStore, private_keys: Iterable[str] = ()) -> list[str]:
    """Credential material found in `logs`, described without repeating it whole."""
    found: list[str] = []
    hashes = issued_hashes(auth_db)
    for match in _TOKENISH.finditer(logs):
        run = match.group(0)
        for candidate in _candidates(run):
            if hashlib.sha256(candidate.encode()).hexdigest() in hashes:
                found.append(f"an issued credential at offset {match.start()}: {candidate[:6]}...")
                break
    for match in _JWT.finditer(logs):
        found.append(f"a JWT at offset {match.start()}: {match.group(0)[:12]}...")
    if "PRIVATE KEY" in logs:
        found.append("a PEM private key marker")
    for pem in private_keys:
        for line in pem.splitlines():
            if len(line) >= 32 and "PRIVATE KEY" not in line and line in logs:
                found.append(f"a private key line: {line[:6]}...")
    return found


def server_logs(*paths: Path) -> str:
    """The text of the given log files and of every `*.log` under directories among them."""
    files: list[Path] = []
    for path in paths:
        files.extend(sorted(path.rglob("*.log")) if path.is_dir() else [path])
    return "".join(p.read_text(errors="replace") for p in files if p.is_file())
