"""Files in object storage: `s3://bucket/key.tif` or `gs://bucket/key.tif` as the catalog stores
them, `/vsis3/...` or `/vsigs/...` as GDAL reads them, and the GDAL options every read of such a
file runs under (docs/decisions/0042, 0056).

`STORES` is the one table of object stores: scheme, GDAL's network file system and fsspec's
protocol (raster/stores.py lists prefixes and backs the disk tier with the latter). Everything
else (the roots' allow-list, ingest, image:import, the read path and its errors) asks this
module, never a scheme of its own.

Credentials and the endpoint come from the process's environment (or GDAL's config), as GDAL
reads them, never from a request. S3: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
`AWS_SESSION_TOKEN`, `AWS_REGION`, `AWS_S3_ENDPOINT`, `AWS_HTTPS`, `AWS_VIRTUAL_HOSTING`, ...; an
endpoint given the way the AWS SDKs take it (`AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL`) is
translated into GDAL's spelling when GDAL's own is not set, so one setting serves GDAL and s3fs
alike. Google Cloud Storage: `GOOGLE_APPLICATION_CREDENTIALS` (or the machine's metadata
server), `GS_ACCESS_KEY_ID` + `GS_SECRET_ACCESS_KEY` (HMAC keys), `GS_NO_SIGN_REQUEST=YES`
(public buckets), `CPL_GS_ENDPOINT` (another endpoint, e.g. an emulator).

The options are set per read (`rasterio.Env`), never process-wide: the timeouts bound how long
a dead or slow store can hold a request, and a COG is read by range requests of the blocks a
read needs, with no directory listing and no probing for sidecar files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True)
class ObjectStore:
    """A kind of object store: the URI scheme users and the catalog name its files by, the
    GDAL network file system that reads them, and the fsspec protocol that lists them."""

    scheme: str  # "s3://"
    vsi: str  # "/vsis3/"
    protocol: str  # "s3"


S3 = ObjectStore("s3://", "/vsis3/", "s3")
GS = ObjectStore("gs://", "/vsigs/", "gs")
STORES = (S3, GS)
SCHEMES = tuple(store.scheme for store in STORES)

# Bounded: a store that does not answer fails the read in seconds, not at the request deadline.
NETWORK_ENV = {
    # No listing of the "directory", and no probing for .aux.xml/.ovr/.msk sidecars: each of
    # those is a request to the store (a COG holds its overviews and masks inside).
    "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
    "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".tif,.tiff",
    "GDAL_PAM_ENABLED": "NO",
    "GDAL_HTTP_CONNECTTIMEOUT": "5",
    "GDAL_HTTP_TIMEOUT": "20",
    "GDAL_HTTP_MAX_RETRY": "2",
    "GDAL_HTTP_RETRY_DELAY": "0.5",
    # Adjacent block ranges are fetched in one request.
    "GDAL_HTTP_MERGE_CONSECUTIVE_RANGES": "YES",
    "GDAL_HTTP_MULTIPLEX": "YES",
    "VSI_CACHE": "TRUE",
    # The IFDs of a COG are at its head: one request reads them all.
    "GDAL_INGESTED_BYTES_AT_OPEN": "32768",
}


def store_of(path: str) -> ObjectStore | None:
    """The object store `path` names a file of (either spelling); None for anything else."""
    return next((s for s in STORES if path.startswith((s.scheme, s.vsi))), None)


def is_remote(path: str) -> bool:
    """Whether `path` names a file in object storage (either spelling)."""
    return store_of(path) is not None


def gdal_path(uri: str) -> str:
    """The name GDAL opens `uri` by: `/vsis3/bucket/key` for `s3://bucket/key`, `/vsigs/...`
    for `gs://...`; others as given."""
    store = store_of(uri)
    if store is not None and uri.startswith(store.scheme):
        return store.vsi + uri[len(store.scheme) :]
    return uri


def stored_uri(path: str) -> str:
    """The URI the catalog keeps for a file GDAL opens as `path`: `s3://bucket/key` for
    `/vsis3/bucket/key`, `gs://...` for `/vsigs/...`; others as given."""
    store = store_of(path)
    if store is not None and path.startswith(store.vsi):
        return store.scheme + path[len(store.vsi) :]
    return path


def split_uri(uri: str) -> tuple[str, str]:
    """`(bucket, key)` of `s3://bucket/key` or `gs://bucket/key`."""
    bucket, _, key = uri.partition("://")[2].partition("/")
    return bucket, key


def endpoint_env() -> dict[str, str]:
    """GDAL's endpoint options from the environment's other spellings: S3's from the SDKs'
    `AWS_ENDPOINT_URL(_S3)` unless GDAL's own `AWS_S3_ENDPOINT` is set; `CPL_GS_ENDPOINT` with
    the trailing slash GDAL appends the bucket to."""
    options = {}
    url = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    if url and not os.environ.get("AWS_S3_ENDPOINT"):
        parts = urlsplit(url)
        options["AWS_S3_ENDPOINT"] = parts.netloc + parts.path.rstrip("/")
        if parts.scheme == "http":
            options["AWS_HTTPS"] = "NO"
    gs = os.environ.get("CPL_GS_ENDPOINT")
    if gs and not gs.endswith("/"):
        options["CPL_GS_ENDPOINT"] = gs + "/"
    return options


def network_env(path: str) -> dict[str, str]:
    """The GDAL options a read of `path` runs under: the network ones for a file in object
    storage, none for a local file."""
    if not is_remote(path):
        return {}
    return {**NETWORK_ENV, **endpoint_env()}
