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
when evicted from the open-dataset pool or from the tier and, for the ones still open, at the
server's shutdown (SIGTERM included). A killed process keeps the blocks recorded before. At each
open the object's ETag is compared with the one its blocks came from (one metadata request, no
GET). The size bound holds while serving (docs/decisions/0057): when the blocks fetched take the
directory past `OPENEE_REMOTE_CACHE_BYTES`, whole files are evicted, least recently read first
(their open handles closed and reopened on their next read), never the file being read; one
directory serves one server process at a time.
"""

from __future__ import annotations

import functools
import os
import threading
import time
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
# A cached file: the store's fsspec protocol and the path fsspec's metadata names it by.
Key = tuple[str, str]


class _DiskTier:
    """fsspec's blockcache filesystem over each store's (raster.stores) in a subdirectory of
    `directory` named by the store's protocol (the same `bucket/key` in two stores are two
    files), the files it has open, and the bound on what the directory keeps."""

    def __init__(self, directory: Path, max_bytes: int) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory, self.max_bytes = directory, max_bytes
        self._filesystems: dict[str, Any] = {}
        # Opens, closes and evictions; held during an open's metadata request, so never by reads.
        self._lock = threading.Lock()
        self._stats = threading.Lock()  # what reads update: last reads, bytes fetched
        self._files: weakref.WeakSet[_TierFile] = weakref.WeakSet()
        self._last_used: dict[Key, float] = {}  # cached file -> time.time() of its last read
        self._measured = 0  # bytes on disk when last measured
        self._fetched = 0  # bytes fetched since
        with self._lock:
            for store in STORES:  # what an earlier run kept
                if (directory / store.protocol).is_dir():
                    self._drop_unlisted(store.protocol, self._fs(store))
            self._trim(keep=None)

    def _fs(self, store: ObjectStore) -> Any:
        """The tier's filesystem over `store`, made at its first use (so that a deployment
        reading one kind of store needs that store's package only). Under the tier's lock."""
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
                # This process is the directory's one writer: its metadata in memory is the
                # truth, never reloaded from disk behind the files it has open.
                cache_check=False,
                # Never one instance for two directories (fsspec caches instances by arguments).
                skip_instance_cache=True,
            )
        return self._filesystems[store.protocol]

    # -- files ---------------------------------------------------------------------------------

    def opener(self, store: ObjectStore, uri: str) -> Any:
        """An opener of `uri` alone (rasterio also calls it with a probe name, which must not
        become a request to the store)."""

        def open_uri(path: str, mode: str = "rb") -> Any:
            if path != uri or mode != "rb":
                raise FileNotFoundError(path)
            return _TierFile(self, store, uri)

        return open_uri

    def handle(self, file: _TierFile) -> Any:
        """A new fsspec handle of `file` (the blocks the tier holds of it, or a fresh sparse
        file after an eviction), under the tier's lock: never while the file is being evicted."""
        with self._lock:
            fs = _recording(self._fs, file.store)
            handle = _recording(fs.open, file.uri, "rb", block_size=BLOCK_BYTES)
            cache = getattr(handle, "cache", None)
            if type(cache) is _written_first_cache().__base__:  # fsspec's MMapCache
                cache.__class__ = _written_first_cache()
            file.key = (file.store.protocol, fs._strip_protocol(file.uri))
            self._files.add(file)
        with self._stats:
            self._last_used[file.key] = time.time()
        return handle

    def fetched(self, file: _TierFile, new_bytes: int) -> None:
        """`file` was just read, fetching `new_bytes` from the store into the tier: past the
        bound, the least recently used other files are evicted."""
        with self._stats:
            self._last_used[file.key] = time.time()
            self._fetched += new_bytes
            over = new_bytes > 0 and self._measured + self._fetched > self.max_bytes
        if over:
            with self._lock:
                self._trim(keep=file.key)

    def close_all(self) -> None:
        """Close the handles still open, which records their blocks in the cache metadata (a
        file being read at that moment keeps its new blocks unrecorded: fetched again)."""
        with self._lock:
            for file in list(self._files):
                file.detach(wait=False)

    # -- the bound -----------------------------------------------------------------------------

    def _used(self) -> int:
        """Bytes the tier's files take on disk (sparse files: the blocks fetched)."""
        return sum(
            os.stat(os.path.join(folder, name)).st_blocks * 512
            for folder, _, names in os.walk(self.directory)
            for name in names
        )

    def _trim(self, keep: Key | None) -> None:
        """Evicts whole files, least recently used first, until the tier is within its bound;
        never `keep` (the file being read) nor a file another thread is reading right now.

        An evicted file's open handles are closed first (their blocks recorded), then its entry
        leaves fsspec's metadata on disk as in memory, then its data file goes; the next read
        of it opens a new handle on a fresh sparse file. Never a listed block without its data
        (fsspec's `pop_from_cache` would merge the entry back from disk on its next save, with
        blocks a new sparse file does not hold: zeros read as data)."""
        used = self._used()
        if used > self.max_bytes:
            with self._stats:
                last_used = dict(self._last_used)
            listed = {
                (protocol, path): detail
                for protocol, fs in self._filesystems.items()
                for path, detail in fs._metadata.cached_files[-1].items()
            }
            order = sorted(
                (k for k in listed if k != keep),
                key=lambda k: last_used.get(k) or self._mtime(k[0], listed[k]),
            )
            for key in order:
                if used <= self.max_bytes:
                    break
                files = [f for f in list(self._files) if f.key == key]
                if not all(f.detach(wait=False) for f in files):
                    continue  # being read: it is not the least recently used any more
                protocol, path = key
                fs = self._filesystems[protocol]
                # The entry as fsspec holds it now: a handle's close saves the metadata, which
                # replaces fsspec's dict with one merged from disk.
                detail = fs._metadata.cached_files[-1].pop(path, None)
                if detail is None:
                    continue
                self._save_metadata(protocol, fs)  # before another save could merge it back
                data = self.directory / protocol / detail["fn"]
                try:
                    used -= data.stat().st_blocks * 512
                    data.unlink()
                except FileNotFoundError:
                    pass
                with self._stats:
                    self._last_used.pop(key, None)
        measured = self._used()
        with self._stats:
            self._measured, self._fetched = measured, 0

    def _mtime(self, protocol: str, detail: dict[str, Any]) -> float:
        try:
            return (self.directory / protocol / detail["fn"]).stat().st_mtime
        except FileNotFoundError:
            return 0.0

    def _save_metadata(self, protocol: str, fs: Any) -> None:
        """fsspec's metadata file rewritten from memory: its `save` merges the file on disk
        back in, which would return the evicted entries. Removed first, so that a stop between
        the two steps leaves no metadata (blocks fetched again), never a stale entry."""
        (self.directory / protocol / "cache").unlink(missing_ok=True)
        fs.save_cache()

    def _drop_unlisted(self, protocol: str, fs: Any) -> None:
        """Data files no metadata entry lists (a stop between eviction steps): never read again,
        so removed at start."""
        listed = {d["fn"] for d in fs._metadata.cached_files[-1].values()}
        for entry in os.scandir(self.directory / protocol):
            if entry.is_file() and entry.name != "cache" and entry.name not in listed:
                os.unlink(entry.path)


@functools.cache
def _written_first_cache() -> type:
    """fsspec's sparse-file block cache, listing a block only once its bytes are in the file.

    fsspec's `MMapCache._fetch` adds the blocks to its list before it fetches them. The list is
    shared by every handle of the file and saved in the metadata whenever any file opens or
    closes, so a fetch that fails, a second handle reading meanwhile, or a save followed by a
    stop leaves a block listed whose bytes in the sparse file are zeros — read later as data.
    Here the bytes are written first; a failed fetch lists nothing."""
    from fsspec.caching import MMapCache

    class WrittenFirst(MMapCache):
        def _fetch(self, start: int | None, end: int | None) -> bytes:
            start = 0 if start is None else start
            end = self.size if end is None else min(end, self.size)
            if start >= end:
                return b""
            size = self.blocksize
            span = range(start // size, (end - 1) // size + 1)
            need = [i for i in span if i not in self.blocks]
            ranges: list[tuple[int, int]] = []
            for i in need:  # runs of consecutive blocks, one range request each
                if ranges and ranges[-1][1] == i * size:
                    ranges[-1] = (ranges[-1][0], min((i + 1) * size, self.size))
                else:
                    ranges.append((i * size, min((i + 1) * size, self.size)))
            if ranges:
                if self.multi_fetcher is not None:
                    parts = list(self.multi_fetcher(ranges))
                else:
                    parts = [self.fetcher(a, b) for a, b in ranges]
                for (a, b), part in zip(ranges, parts, strict=True):
                    if len(part) != b - a:  # a short answer is an error, never a hole
                        raise OSError(f"the store returned {len(part)} of {b - a} bytes")
                    self.cache[a:b] = part
                self.blocks.update(need)
            return bytes(self.cache[start:end])

    return WrittenFirst


class _TierFile:
    """A file of the tier as rasterio's opener sees it (read, seek, tell, close): reads go
    through an fsspec handle the tier may close when it evicts the file, and the next read
    opens a new one. Used by one thread at a time (raster.read's handle lock)."""

    def __init__(self, tier: _DiskTier, store: ObjectStore, uri: str) -> None:
        self.tier, self.store, self.uri = tier, store, uri
        self.key: Key = (store.protocol, uri)  # set by the tier to fsspec's name of the file
        self._lock = threading.Lock()  # held while reading, and by the tier to evict
        with self._lock:  # registered with the tier before its handle is set: not evicted yet
            self._handle: Any = tier.handle(self)
        # fsspec opens a file whose every block it holds as a plain local file.
        size = getattr(self._handle, "size", None)
        self.size: int = os.fstat(self._handle.fileno()).st_size if size is None else int(size)
        self._pos = 0
        self.closed = False

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._pos, os.SEEK_END: self.size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def read(self, size: int = -1) -> bytes:
        with self._lock:
            if self._handle is None:
                self._handle = self.tier.handle(self)
            blocks = getattr(getattr(self._handle, "cache", None), "blocks", None)
            before = len(blocks) if isinstance(blocks, set) else 0
            self._handle.seek(self._pos)
            data: bytes = _recording(self._handle.read, size)
            self._pos += len(data)
            grown = (len(blocks) - before) if isinstance(blocks, set) else 0
        self.tier.fetched(self, grown * BLOCK_BYTES)
        return data

    def detach(self, wait: bool) -> bool:
        """Closes the fsspec handle (recording its blocks), unless the file is being read and
        not `wait`; True when no handle is open. Called by the tier under its lock."""
        if not self._lock.acquire(blocking=wait):
            return False
        try:
            if self._handle is not None:
                handle, self._handle = self._handle, None
                handle.close()
            return True
        finally:
            self._lock.release()

    def __enter__(self) -> _TierFile:  # rasterio asks a file's size inside `with`
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        # The file's lock before the tier's, as in `read` (the tier only tries the file's).
        with self._lock, self.tier._lock:
            if self._handle is not None:
                self._handle.close()
                self._handle = None
            self.closed = True
            self.tier._files.discard(self)


def _recording(call: Any, *args: Any, **kwargs: Any) -> Any:
    """`call`, its failure (a block fetched from a missing object or a dead store) recorded for
    the thread's error before GDAL hides it."""
    try:
        return call(*args, **kwargs)
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
