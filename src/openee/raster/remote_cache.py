"""The optional local-disk tier under reads of files in object storage (docs/decisions/0053).

Off by default: GDAL reads `/vsis3/` itself (raster.remote) and its in-memory block cache makes
a second read of a block free within one process. With `OPENEE_REMOTE_CACHE_DIR` set, a file in
object storage is opened instead through rasterio's `opener=` over fsspec's `blockcache`
filesystem wrapping s3fs: every block fetched (by a range request) is written to a sparse file
in that directory and its presence recorded in fsspec's cache metadata, so a block fetched once
is read from local disk by later requests and by the server after a restart.

The rules of raster.gdal and raster.remote still hold: only URIs the roots allowed reach here
(the caller checked the prefix), the drivers are pinned by `open_raster`, credentials and the
endpoint come from the standard AWS environment (botocore reads it; GDAL's own
`AWS_S3_ENDPOINT`/`AWS_HTTPS`/`AWS_VIRTUAL_HOSTING` are honoured too), and every request to the
store has bounded connect/read timeouts and retries.

The set of blocks of a file is recorded when its handle closes (fsspec's design): handles close
when evicted from the open-dataset pool and, for the ones still open, at the process's normal
shutdown (SIGTERM included). A killed process keeps the blocks recorded before.
"""

from __future__ import annotations

import itertools
import os
import threading
import weakref
from pathlib import Path
from typing import Any

from openee.raster.remote import S3_SCHEME, stored_uri

# The unit fetched and kept: GDAL's reads of a 256-pixel COG tile are tens of KiB; s3fs's
# default (50 MiB) would fetch whole files.
BLOCK_BYTES = 256 * 1024
# The same bounds GDAL's own reads run under (raster.remote.NETWORK_ENV).
_BOTO_CONFIG = {"connect_timeout": 5, "read_timeout": 20, "retries": {"max_attempts": 3}}

_lock = threading.Lock()
_tier: _DiskTier | None = None


class _DiskTier:
    def __init__(self, directory: Path, max_bytes: int) -> None:
        import fsspec  # an optional dependency (extra `buckets`), imported only when enabled

        directory.mkdir(parents=True, exist_ok=True)
        self.directory, self.max_bytes = directory, max_bytes
        self.fs: Any = fsspec.filesystem(
            "blockcache",
            target_protocol="s3",
            target_options=_s3_options(),
            cache_storage=str(directory),
            check_files=False,  # the store is not asked at each open whether the object changed
        )
        self._ids = itertools.count()
        self._open: weakref.WeakValueDictionary[int, Any] = weakref.WeakValueDictionary()
        self._lock = threading.Lock()
        self.trim()

    def opener(self, uri: str) -> Any:
        """An opener of `uri` alone (rasterio also calls it with a probe name, which must not
        become a request to the store)."""

        def open_uri(path: str, mode: str = "rb") -> Any:
            if path != uri or mode != "rb":
                raise FileNotFoundError(path)
            return self.open(uri)

        return open_uri

    def open(self, path: str) -> Any:
        with self._lock:
            self.trim()
            handle = self.fs.open(path, "rb", block_size=BLOCK_BYTES)
            self._open[next(self._ids)] = handle
        return handle

    def close_all(self) -> None:
        """Close the handles still open, which records their blocks in the cache metadata."""
        with self._lock:
            for handle in list(self._open.values()):
                handle.close()

    def trim(self) -> None:
        """Drop the least recently written files of the tier until it holds at most
        `max_bytes` on disk; files open in this process are kept."""
        entries = []
        for entry in os.scandir(self.directory):
            if entry.is_file() and entry.name != "cache":  # `cache`: fsspec's metadata
                stat = entry.stat()
                entries.append((stat.st_mtime, stat.st_blocks * 512, entry.name))
        used = sum(size for _, size, _ in entries)
        if used <= self.max_bytes:
            return
        in_use = {self.fs._mapper(self.fs._strip_protocol(h.path)) for h in self._open.values()}
        originals = {d["fn"]: p for p, d in self.fs._metadata.cached_files[-1].items()}
        for _, size, name in sorted(entries):
            if used <= self.max_bytes:
                break
            if name in in_use:
                continue
            original = originals.get(name)
            if original is not None:
                self.fs.pop_from_cache(original)
            else:
                os.remove(self.directory / name)
            used -= size


def _s3_options() -> dict[str, Any]:
    """s3fs's options from the environment GDAL reads (raster.remote): the endpoint in GDAL's
    spelling when the SDKs' `AWS_ENDPOINT_URL(_S3)` is not set, path-style addressing when
    virtual hosting is off, and bounded timeouts. Credentials: botocore's standard chain."""
    options: dict[str, Any] = {"config_kwargs": dict(_BOTO_CONFIG)}
    sdk = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    gdal = os.environ.get("AWS_S3_ENDPOINT")
    if gdal and not sdk:
        scheme = (
            "http" if os.environ.get("AWS_HTTPS", "YES").upper() in ("NO", "FALSE") else "https"
        )
        options["endpoint_url"] = gdal if "://" in gdal else f"{scheme}://{gdal}"
    if os.environ.get("AWS_VIRTUAL_HOSTING", "").upper() in ("NO", "FALSE"):
        options["config_kwargs"]["s3"] = {"addressing_style": "path"}
    return options


def use_disk_tier(directory: Path | None, max_bytes: int) -> None:
    """Enable the tier in `directory` bounded to `max_bytes` (None: off); set once by the
    server at start."""
    global _tier
    with _lock:
        _tier = _DiskTier(directory, max_bytes) if directory is not None else None


def opener_for(path: str) -> tuple[str, Any] | None:
    """`(uri, opener)` rasterio opens a file in object storage (either spelling) with when the
    tier is on; None otherwise (GDAL reads `path` itself)."""
    tier, uri = _tier, stored_uri(path)
    if tier is None or not uri.startswith(S3_SCHEME):
        return None
    return uri, tier.opener(uri)


def record_blocks() -> None:
    """Record the blocks of the files still open (by closing them): called by the server at
    shutdown (uvicorn ends on the re-raised SIGTERM, so atexit handlers do not run)."""
    tier = _tier
    if tier is not None:
        tier.close_all()
