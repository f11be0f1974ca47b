"""Every GDAL/OGR open of a user's file goes through here (docs/decisions/0033).

- Drivers are pinned at open: rasters only as GeoTIFF or JPEG2000, vectors only as GeoJSON,
  GeoPackage, Shapefile, CSV, FlatGeobuf or (Geo)Parquet. Never VRT, STAC, WMS or any other
  driver that follows references to other files or URLs.
- No network: every open and read runs with GDAL's HTTP proxy pointed at a port of this process
  that refuses connections, and `/vsicurl/` limited to one file name. A read of an allow-listed
  URL (`openee.catalog.urls`) lifts that for its own file name only. A file in an allow-listed
  bucket (`s3://`, `gs://`, docs/decisions/0042, 0056) is read through `/vsis3/` or `/vsigs/`
  under the bounded network options of `raster.remote` instead: GDAL's S3 client refuses every
  open while the proxy or `CPL_VSIL_CURL_ALLOWED_FILENAME` is set, and the bucket prefix was
  checked by the roots.
- Sidecars GDAL opens beside a raster (`x.tif.ovr`, `x.ovr`, `x.tif.msk`, `x.tif.aux.xml`,
  `x.aux`, world files, ...) are checked at every open: a symbolic link among them must stay in the
  roots; `.ovr`/`.msk` must be TIFFs and `.aux` an Erdas file (GDAL opens them with every driver);
  an `.aux.xml` may not name an OVERVIEW_FILE (which can be any path or URL).
- A raster's declared size is checked against its file size and its blocks are bounded, so a
  1 KB file cannot make a read decode gigabytes (GDAL's security guidance), and its
  georeferencing must be finite.
"""

from __future__ import annotations

import math
import os
import socket
import threading
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import rasterio.io
from rasterio._path import _parse_path, _UnparsedPath
from rasterio.enums import Interleaving
from rasterio.session import DummySession

from openee.errors import FailedPreconditionError
from openee.raster.remote import gdal_path, is_remote, network_env
from openee.raster.remote_cache import opener_for

RASTER_DRIVERS = ("GTiff", "JP2OpenJPEG")
VECTOR_DRIVERS = ("GeoJSON", "GPKG", "ESRI Shapefile", "CSV", "FlatGeobuf", "Parquet")
# The largest block (tile or strip) GDAL may decode at once, uncompressed.
MAX_BLOCK_BYTES = 256 << 20
# The largest side and the largest ratio of declared (uncompressed) bytes to file bytes. A
# sparse or constant COG stays far below the ratio; a header-only bomb does not.
MAX_SIDE = 1 << 22
MAX_EXPANSION = 100_000
# Coordinates beyond this, in any CRS unit, are not a place on Earth.
MAX_COORDINATE = 1e12

_TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
_MAX_AUX_XML = 1 << 20
_NO_CURL_FILE = "/vsicurl/openee-network-is-off"


class UnsafeFileError(FailedPreconditionError):
    """A file (or a sidecar of it) that openee refuses to hand to GDAL."""


class _Network:
    """A loopback port bound but never listened on: GDAL's proxy, so any HTTP request GDAL
    would make is refused by the kernel before a byte leaves the process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._socket: socket.socket | None = None

    def proxy(self) -> str:
        with self._lock:
            if self._socket is None:
                # libcurl skips GDAL's proxy for hosts in NO_PROXY: none may be exempt.
                for name in ("NO_PROXY", "no_proxy"):
                    os.environ.pop(name, None)
                os.environ["PROJ_NETWORK"] = "OFF"
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sock.bind(("127.0.0.1", 0))
                self._socket = sock
            return f"127.0.0.1:{self._socket.getsockname()[1]}"


_network = _Network()
_roots: tuple[Path, ...] = ()


def confine_sidecars_to(roots: Sequence[Path]) -> None:
    """The directories a sidecar reached through a symbolic link may be in (the server's
    roots); set once by the server and by `openee ingest`."""
    global _roots
    _roots = tuple(Path(os.path.realpath(r)) for r in roots)


def is_url(path: str) -> bool:
    """A URL, or a file in object storage in either spelling (`s3://`, `/vsis3/`, ...)."""
    return "://" in path or is_remote(path)


def no_network_options() -> dict[str, str]:
    """GDAL configuration for an open or read that must not touch the network."""
    proxy = _network.proxy()
    return {
        "GDAL_HTTP_PROXY": proxy,
        "GDAL_HTTPS_PROXY": proxy,
        "CPL_VSIL_CURL_ALLOWED_FILENAME": _NO_CURL_FILE,
        "GDAL_HTTP_MAX_RETRY": "0",
    }


def raster_env(path: str) -> dict[str, str]:
    """GDAL configuration for opening or reading `path` (a confined path or checked URL)."""
    if is_remote(path):
        # Only the store's network options: with the dead proxy or an allowed /vsicurl/ file
        # name set, GDAL's /vsis3/ fails every open (/vsigs/ gets the same options).
        return network_env(path)
    env = {
        # No directory listing; sidecars such as .aux.xml are still probed (and checked here).
        "GDAL_DISABLE_READDIR_ON_OPEN": "TRUE",
        "GDAL_PAM_ENABLED": "YES",
        **no_network_options(),
    }
    if is_url(path):
        # The one allow-listed file, fetched directly; nothing beside it (no sidecars).
        del env["GDAL_HTTP_PROXY"], env["GDAL_HTTPS_PROXY"]
        env["CPL_VSIL_CURL_ALLOWED_FILENAME"] = _curl_name(path)
        env["GDAL_DISABLE_READDIR_ON_OPEN"] = "EMPTY_DIR"
        env["GDAL_PAM_ENABLED"] = "NO"
    return env


def gdal_env(path: str) -> rasterio.Env:
    """`rasterio.Env(**raster_env(path))` without a rasterio session: GDAL reads the AWS_*
    credentials from the environment itself, while the AWS session rasterio makes whenever they
    are set builds a boto3 session on every Env entered (~20 ms of CPU per file read)."""
    return rasterio.Env(session=DummySession(), **raster_env(path))


def _curl_name(url: str) -> str:
    return url if url.startswith("/vsicurl/") else f"/vsicurl/{url}"


def _inside(path: Path, roots: Sequence[Path]) -> bool:
    return any(path == r or r in path.parents for r in roots)


def check_sidecars(path: str) -> None:
    """Refuse `path` if a file GDAL may open beside it is unsafe (see the module doc)."""
    if is_url(path):
        return
    file = Path(path)
    stem = file.name.split(".", 1)[0].lower()
    try:
        entries = list(os.scandir(file.parent))
    except OSError:
        return
    allowed = _roots or (Path(os.path.realpath(file.parent)),)
    for entry in entries:
        lower = entry.name.lower()
        if entry.name == file.name or not lower.startswith(stem):
            continue
        if entry.is_symlink() and not _inside(Path(os.path.realpath(entry.path)), allowed):
            raise UnsafeFileError(
                f"'{file.name}': its sidecar '{entry.name}' links outside the allowed roots."
            )
        if lower.endswith((".ovr", ".msk")):
            _check_magic(file, entry.path, entry.name, _TIFF_MAGIC)
        elif lower.endswith(".aux"):
            _check_magic(file, entry.path, entry.name, (b"EHFA_HEADER_TAG",))
        elif lower.endswith(".aux.xml"):
            try:
                with open(entry.path, "rb") as f:
                    text = f.read(_MAX_AUX_XML).upper()
            except OSError:
                continue
            if b"OVERVIEW_FILE" in text or b"/VSI" in text:
                raise UnsafeFileError(
                    f"'{file.name}': its sidecar '{entry.name}' points GDAL at another file."
                )


def _check_magic(file: Path, sidecar: str, name: str, magics: tuple[bytes, ...]) -> None:
    try:
        with open(sidecar, "rb") as f:
            head = f.read(16)
    except OSError:
        return  # a directory or unreadable entry: GDAL cannot open it either
    if not any(head.startswith(m) for m in magics):
        raise UnsafeFileError(f"'{file.name}': its sidecar '{name}' is not of the expected type.")


def open_raster(path: str, overview: int = -1) -> rasterio.io.DatasetReader:
    """`path` opened with the raster allow-list after its sidecars and size were checked.
    Call inside `gdal_env(path)`. Raises UnsafeFileError (a 400) or
    rasterio's errors."""
    check_sidecars(path)
    kwargs: dict[str, Any] = {"driver": list(RASTER_DRIVERS)}
    if overview >= 0:
        kwargs["overview_level"] = overview
    cached = opener_for(path)
    if cached is not None:
        # Through the local-disk tier (docs/decisions/0053): fsspec's file, not GDAL's /vsi....
        # rasterio.open takes one driver only: its registration of the opener, used directly
        # (rasterio >= 1.4, required by the `buckets` extra with fsspec, s3fs and gcsfs).
        from rasterio._vsiopener import _opener_registration

        uri, opener = cached
        registration = ExitStack()
        vsi_path = registration.enter_context(_opener_registration(uri, opener))
        try:
            dataset = rasterio.io.DatasetReader(_UnparsedPath(vsi_path), **kwargs)
        except BaseException:
            registration.close()
            raise
        dataset._env = registration  # closed with the dataset, as rasterio.open does
    else:
        dataset = rasterio.io.DatasetReader(_parse_path(gdal_path(path)), **kwargs)
    try:
        check_dataset(dataset, path)
    except BaseException:
        dataset.close()
        raise
    return dataset


def open_checked(path: str | Path) -> rasterio.io.DatasetReader:
    """`open_raster` in its own GDAL environment, for one-off reads of headers (import, ingest);
    the dataset must be closed by the caller (a context manager)."""
    text = str(path)
    with gdal_env(text):
        return open_raster(text)


def check_dataset(src: rasterio.io.DatasetReader, path: str) -> None:
    """Declared sizes, blocks and georeferencing that a real raster can have."""
    name = os.path.basename(path)
    width, height, count = src.width, src.height, src.count
    if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE and 0 < count <= 65536):
        raise UnsafeFileError(
            f"'{name}' declares {width} x {height} pixels in {count} bands, beyond what is read"
            f" (at most {MAX_SIDE} pixels a side)."
        )
    itemsizes = [np.dtype(d).itemsize for d in src.dtypes]
    if not is_url(path):
        try:
            size = max(os.path.getsize(path), 1)
        except OSError:
            size = 1
        declared = width * height * sum(itemsizes)
        if declared / size > MAX_EXPANSION:
            raise UnsafeFileError(
                f"'{name}' declares {declared} bytes of pixels in a {size}-byte file."
            )
    pixel_interleaved = src.interleaving == Interleaving.pixel
    for i, (bw_bh, itemsize) in enumerate(zip(src.block_shapes, itemsizes, strict=True)):
        bh, bw = bw_bh
        block = bh * bw * (sum(itemsizes) if pixel_interleaved else itemsize)
        if block > MAX_BLOCK_BYTES:
            raise UnsafeFileError(
                f"'{name}': band {i + 1} has {bw} x {bh} blocks ({block >> 20} MiB each"
                f" decoded), more than {MAX_BLOCK_BYTES >> 20} MiB."
            )
    t = src.transform
    coefficients = (t.a, t.b, t.c, t.d, t.e, t.f)
    if src.crs is not None and (
        not all(math.isfinite(v) and abs(v) <= MAX_COORDINATE for v in coefficients)
        or t.determinant == 0
        or not all(math.isfinite(v) and abs(v) <= MAX_COORDINATE for v in src.bounds)
    ):
        raise UnsafeFileError(f"'{name}' has invalid georeferencing {coefficients}.")
