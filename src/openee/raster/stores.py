"""fsspec's filesystems of the object stores of raster.remote, configured from the environment
GDAL reads: what lists a bucket prefix (`openee ingest s3://...`, `gs://...`) and what the local
disk tier reads blocks through (raster/remote_cache.py). GDAL reads the files itself otherwise.

s3fs takes the credentials from botocore's standard chain and the endpoint in either spelling
(the SDKs' `AWS_ENDPOINT_URL(_S3)`, GDAL's `AWS_S3_ENDPOINT` with `AWS_HTTPS`), path-style
addressing when GDAL's `AWS_VIRTUAL_HOSTING` is off. gcsfs takes `GS_NO_SIGN_REQUEST=YES` as
anonymous access, else Google's default credentials (`GOOGLE_APPLICATION_CREDENTIALS`, the
metadata server), and GDAL's `CPL_GS_ENDPOINT`. HMAC keys (`GS_ACCESS_KEY_ID`) are GDAL's only:
gcsfs speaks the JSON API, which takes OAuth2 tokens (docs/decisions/0056). Nothing comes from a
request. Every request to the store has bounded timeouts and retries, as GDAL's reads have.
"""

from __future__ import annotations

import functools
import os
from typing import Any

from openee.errors import FailedPreconditionError
from openee.raster.remote import S3, ObjectStore

# The bounds of GDAL's reads (raster.remote.NETWORK_ENV): connect 5 s, transfer 20 s, 3 tries.
CONNECT_S, READ_S, ATTEMPTS = 5, 20, 3


def _yes(name: str) -> bool:
    return os.environ.get(name, "").upper() in ("YES", "TRUE", "ON", "1")


def _no(name: str) -> bool:
    return os.environ.get(name, "").upper() in ("NO", "FALSE", "OFF", "0")


def s3_endpoint() -> str | None:
    """The S3 endpoint from the environment, in either spelling; None: AWS itself."""
    url = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    gdal = os.environ.get("AWS_S3_ENDPOINT")
    if not url and gdal:
        url = gdal if "://" in gdal else f"{'http' if _no('AWS_HTTPS') else 'https'}://{gdal}"
    return url or None


def _s3(options: dict[str, Any]) -> Any:
    import s3fs

    config: dict[str, Any] = {
        "connect_timeout": CONNECT_S,
        "read_timeout": READ_S,
        "retries": {"max_attempts": ATTEMPTS},
    }
    if _no("AWS_VIRTUAL_HOSTING"):
        config["s3"] = {"addressing_style": "path"}
    return s3fs.S3FileSystem(endpoint_url=s3_endpoint(), config_kwargs=config, **options)


@functools.cache
def _gcsfs_class() -> Any:
    # gcsfs's plain JSON-API filesystem: the class `import gcsfs` exports by default also asks
    # the gRPC storage-control API for each bucket's layout (one more service to reach, and a
    # 60 s wait where it cannot be reached).
    from gcsfs.core import GCSFileSystem
    from gcsfs.retry import retry_request

    class BoundedGCSFileSystem(GCSFileSystem):
        """gcsfs with GDAL's number of tries: its own 6, backing off 1, 2, 4, 8 and 16 s, keep
        a request to a dead store waiting ~35 s before it fails."""

        _request = retry_request(retries=ATTEMPTS)(GCSFileSystem._request.__wrapped__)

    return BoundedGCSFileSystem


def _gs(options: dict[str, Any]) -> Any:
    endpoint = os.environ.get("CPL_GS_ENDPOINT", "").rstrip("/") or None
    return _gcsfs_class()(
        token="anon" if _yes("GS_NO_SIGN_REQUEST") else None,
        endpoint_url=endpoint,
        requests_timeout=READ_S,
        **options,
    )


def filesystem(store: ObjectStore, **options: Any) -> Any:
    """fsspec's filesystem of `store` as the environment configures it (`options` are passed
    on). Raises FailedPreconditionError when its package (the `buckets` extra) is missing."""
    try:
        return (_s3 if store is S3 else _gs)(options)
    except ImportError:
        package = "s3fs" if store is S3 else "gcsfs"
        raise FailedPreconditionError(
            f"Reading {store.scheme} prefixes this way needs {package}:"
            " pip install 'openee[buckets]'."
        ) from None
