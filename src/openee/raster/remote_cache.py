"""The optional local-disk tier under reads of files in object storage (docs/decisions/0053).

Off by default: GDAL reads `/vsis3/` and `/vsigs/` itself (raster.remote) and its in-memory
block cache makes a second read of a block free within one process. With
`OPENEE_REMOTE_CACHE_DIR` set, a file in object storage is opened instead through rasterio's
`opener=` over fsspec's `blockcache` filesystem wrapping s3fs or gcsfs (raster.stores): every
block fetched (by a range request) is written to a sparse file in that directory and its
presence recorded in fsspec's cache metadata, so a block fetched once is read from local disk
by later requests and by the server after a restart.

The rules of raster.gdal and raster.remote still hold: only URIs the roots allowed reach here
(the caller checked the prefix), the drivers are pinned by `open_raster`, credentials and the
endpoint come from the store's standard environment (raster.stores), and every request to the
store has bounded connect/read timeouts and retries.

The set of blocks of a file is recorded when its handle closes (fsspec's design): handles close
when evicted from the open-dataset pool and, for the ones still open, at the server's shutdown
(SIGTERM included). A killed process keeps the blocks recorded before. At each open the
object's ETag is compared with the one its blocks came from (one HEAD, no GET). The size bound
is applied at start (the tier is emptied when it holds more); one directory serves one server
process at a time.
"""

from __future__ import annotations

import itertools
import os
import threading
import weakref
from pathlib import Path
from typing import Any

from openee.raster.remote import STORES, ObjectStore, store_of, stored_uri
from openee.raster.stores import filesystem

# The unit fetched and kept: GDAL's reads of a 256-pixel COG tile are tens of KiB; s3fs's
# default (50 MiB) would fetch whole files.
BLOCK_BYTES = 256 * 1024

_lock = threading.Lock()
_tier: _DiskTier | None = None
# The last failure of the store seen by this thread: GDAL turns an exception in the opener into
# "Resource temporarily unavailable", so the words are kept here for the error (raster.read).
_failure = threading.local()


class _DiskTier:
    """fsspec's blockcache filesystem over each store's (raster.stores) in a subdirectory of
    `directory` named by the store's protocol (the same `bucket/key` in two stores are two
    files), and the files it has open."""

    def __init__(self, directory: Path, max_bytes: int) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory, self.max_bytes = directory, max_bytes
        self._filesystems: dict[str, Any] = {}
        self._ids = itertools.count()
        self._open: weakref.WeakValueDictionary[int, Any] = weakref.WeakValueDictionary()
        self._lock = threading.Lock()
        self.trim()

    def fs(self, store: ObjectStore) -> Any:
        """The tier's filesystem over `store`, made at its first use (so that a deployment
        reading one kind of store needs that store's package only)."""
        with self._lock:
            if store.protocol not in self._filesystems:
                import fsspec  # an optional dependency (extra `buckets`), imported when enabled

                self._filesystems[store.protocol] = fsspec.filesystem(
                    "blockcache",
                    fs=filesystem(store),
                    cache_storage=str(self.directory / store.protocol),
                    # At each open the object's ETag is compared with the one its blocks came
                    # from (one HEAD): the blocks of a replaced object are never mixed with the
                    # new one's.
                    check_files=True,
                )
            return self._filesystems[store.protocol]

    def opener(self, store: ObjectStore, uri: str) -> Any:
        """An opener of `uri` alone (rasterio also calls it with a probe name, which must not
        become a request to the store)."""

        def open_uri(path: str, mode: str = "rb") -> Any:
            if path != uri or mode != "rb":
                raise FileNotFoundError(path)
            return _recorded(_recording(self.open, store, uri))

        return open_uri

    def open(self, store: ObjectStore, path: str) -> Any:
        fs = self.fs(store)
        with self._lock:
            handle = fs.open(path, "rb", block_size=BLOCK_BYTES)
            self._open[next(self._ids)] = handle
        return handle

    def close_all(self) -> None:
        """Close the handles still open, which records their blocks in the cache metadata."""
        with self._lock:
            for handle in list(self._open.values()):
                handle.close()

    def trim(self) -> None:
        """Empty the tier if it holds more than `max_bytes` on disk. Only at start, with no file
        open: fsspec cannot drop one file for good (its metadata is merged back from disk on
        save), and a file dropped while its blocks are still listed would read as zeros."""
        used = sum(
            os.stat(os.path.join(folder, name)).st_blocks * 512
            for folder, _, names in os.walk(self.directory)
            for name in names
        )
        if used > self.max_bytes:
            for store in STORES:
                if (self.directory / store.protocol).is_dir():
                    self.fs(store).clear_cache()


def _recorded(file: Any) -> Any:
    """`file` (fsspec's) with its failures (a block fetched from a missing object or a dead
    store) recorded for the thread's error before GDAL hides them; patched on the instance, as
    fsspec patches `close`, so that the file stays the object rasterio expects."""
    read = file.read
    file.read = lambda size=-1: _recording(read, size)
    return file


def _recording(call: Any, *args: Any) -> Any:
    try:
        return call(*args)
    except Exception as exc:
        _failure.exc = exc
        raise


def failure_words(exc: Exception) -> str:
    """`exc` (a failed read through the tier) in GDAL's words for the same failure of /vsis3/ or
    /vsigs/, which raster.read maps to its errors: a missing object or bucket is the data's
    fault (400), a store that does not answer the deployment's (503)."""
    failure, _failure.exc = getattr(_failure, "exc", None), None
    if failure is None:
        return str(exc)
    if isinstance(failure, FileNotFoundError):
        return "The specified key does not exist."
    # botocore's EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError, and 5xx.
    return f"CURL error: the store did not answer: {failure}"


def use_disk_tier(directory: Path | None, max_bytes: int) -> None:
    """Enable the tier in `directory` bounded to `max_bytes` (None: off); set once by the
    server at start."""
    global _tier
    with _lock:
        _tier = _DiskTier(directory, max_bytes) if directory is not None else None


def opener_for(path: str) -> tuple[str, Any] | None:
    """`(uri, opener)` rasterio opens a file in object storage (either spelling) with when the
    tier is on; None otherwise (GDAL reads `path` itself)."""
    tier, store = _tier, store_of(path)
    if tier is None or store is None:
        return None
    uri = stored_uri(path)
    return uri, tier.opener(store, uri)


def record_blocks() -> None:
    """Record the blocks of the files still open (by closing them): called by the server at
    shutdown (uvicorn ends on the re-raised SIGTERM, so atexit handlers do not run)."""
    tier = _tier
    if tier is not None:
        tier.close_all()
