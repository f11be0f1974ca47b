"""Where asset files may live: every path or URI an asset names is confined to configured roots.

`Roots.check()` decides from the text and the file system's links alone, before anything is
opened, and raises InvalidArgumentError (HTTP 400) with the reason. Rejected:

- NUL and other control characters, backslashes, percent-encoded characters (so neither
  `%2e%2e` nor a double-encoded `%252e%252e` can smuggle a `..` past a later decoding step);
- any `..` segment, even one that would land inside a root;
- GDAL's virtual file systems and connection strings (`/vsicurl/`, `/vsizip/`, `HDF5:...`,
  `vrt://`), and VRT files, which can point anywhere;
- URLs (`http(s)://`, `s3://`, `gs://`, ...) unless they start with an allow-listed prefix
  (`http(s)://host/...`, `s3://bucket/...` or `gs://bucket/...`; whole path segments, same
  host or bucket, no dot segments or '/' in the query: see `_check_url`; redirects are checked
  where the URL is read, `urls.resolve_url`), and `file://` unless `allow_file_uri`;
- absolute paths outside the roots, and paths whose real location (symlinks resolved) is
  outside them.

Relative paths are taken relative to the first root (the data dir).
"""

from __future__ import annotations

import os
import re
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from openee.errors import InvalidArgumentError

MAX_URI_CHARS = 4096

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_PERCENT = re.compile(r"%[0-9A-Fa-f]{2}")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")
_FORBIDDEN_SUFFIXES = (".vrt",)


def _reject(uri: str, why: str) -> InvalidArgumentError:
    shown = _CONTROL.sub("?", uri[:200])
    return InvalidArgumentError(f"Asset file '{shown}' is not allowed: {why}.")


# A bucket in object storage (raster.remote.STORES) and the slash after it: an S3 bucket name
# (lower case, digits, dots, hyphens; 3 to 63 characters), a Cloud Storage one (underscores too).
_BUCKET_PREFIX = re.compile(
    r"^(?:s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]|gs://[a-z0-9][a-z0-9._\-]{1,61}[a-z0-9])/"
)


def check_url_prefix(prefix: str) -> None:
    """Raises ValueError unless `prefix` is an allow-listable URL prefix: `http(s)://host/...`,
    or `s3://bucket/...` / `gs://bucket/...` (a bucket in object storage, read with the
    credentials and endpoint of the server's environment; docs/decisions/0042, 0056). The slash
    after the host or bucket is required, so that `s3://data/` does not also allow
    `s3://data-private/`."""
    if not (re.match(r"^https?://[^/]+/", prefix) or _BUCKET_PREFIX.match(prefix)):
        raise ValueError(
            "a URL prefix must be scheme://host/..., s3://bucket/... or gs://bucket/...:"
            f" {prefix!r}"
        )


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


@dataclass(frozen=True)
class Roots:
    """The directories asset files may come from, and the URL prefixes allowed besides."""

    roots: tuple[Path, ...]
    url_prefixes: tuple[str, ...] = ()
    allow_file_uri: bool = False

    @classmethod
    def of(
        cls,
        roots: Sequence[Path],
        url_prefixes: Sequence[str] = (),
        allow_file_uri: bool = False,
    ) -> Roots:
        """Roots from directories as given (made absolute, symlinks resolved)."""
        resolved = tuple(dict.fromkeys(Path(os.path.realpath(r)) for r in roots))
        if not resolved:
            raise ValueError("at least one root is needed")
        for prefix in url_prefixes:
            check_url_prefix(prefix)
        return cls(resolved, tuple(url_prefixes), allow_file_uri)

    @classmethod
    def for_data_dir(
        cls, data_dir: Path, extra: Sequence[Path] = (), url_prefixes: Sequence[str] = ()
    ) -> Roots:
        """The data dir, the bundled demo imagery and the `extra` roots (the settings'
        `allowed_roots`: OPENEE_ALLOWED_ROOTS), with the allow-listed URL prefixes
        (`allowed_url_prefixes`: OPENEE_ALLOWED_URL_PREFIXES)."""
        from openee.demo import DATA_DIR

        return cls.of([data_dir, DATA_DIR, *extra], url_prefixes)

    def check(self, uri: str) -> str:
        """The confined form of `uri`: a real absolute path inside a root, or an allow-listed
        URL unchanged. Raises InvalidArgumentError otherwise; opens nothing."""
        if not isinstance(uri, str) or not uri:
            raise InvalidArgumentError("Asset file must be a non-empty string.")
        if len(uri) > MAX_URI_CHARS:
            raise _reject(uri, f"longer than {MAX_URI_CHARS} characters")
        if _CONTROL.search(uri):
            raise _reject(uri, "control characters (such as NUL) are not allowed")
        if "\\" in uri:
            raise _reject(uri, "backslashes are not allowed")
        lowered = uri.lower()
        if "/vsi" in lowered:
            raise _reject(uri, "GDAL virtual file systems (/vsi...) are not allowed")
        scheme = _SCHEME.match(uri)
        if scheme:
            if any(uri.startswith(prefix) for prefix in self.url_prefixes):
                return self._check_url(uri)
            if scheme.group(1).lower() == "file" and lowered.startswith("file://"):
                if not self.allow_file_uri:
                    raise _reject(uri, "file:// URIs are not allowed; give a path")
                rest = uri[len("file://") :]
                if not rest.startswith("/"):
                    raise _reject(uri, "a file:// URI must name an absolute path on this host")
                return self._check_path(uri, rest)
            raise _reject(
                uri, f"'{scheme.group(1)}:' sources are not allowed (not an allow-listed URL)"
            )
        return self._check_path(uri, uri)

    def _check_url(self, uri: str) -> str:
        """An allow-listed URL, refused unless its normal form is itself under the same
        prefix: GDAL collapses dot segments anywhere (`x.tif?/../../y`), so none may appear,
        nor user info, fragments, encoded characters or a prefix matched mid-segment."""
        if _PERCENT.search(uri) or "#" in uri or "@" in uri:
            raise _reject(uri, "percent-encoding, '#' and '@' are not allowed in URLs")
        parts = urllib.parse.urlsplit(uri)
        segments = f"{parts.path}/{parts.query}".split("/")
        if any(s in (".", "..") for s in segments) or "//" in parts.path or "/" in parts.query:
            raise _reject(uri, "dot segments, '//' and '/' after '?' are not allowed in URLs")
        for prefix in self.url_prefixes:
            head = urllib.parse.urlsplit(prefix)
            if (
                uri.startswith(prefix)
                and (prefix.endswith("/") or uri[len(prefix) : len(prefix) + 1] in ("/", "?", ""))
                and (parts.scheme, parts.netloc.lower()) == (head.scheme, head.netloc.lower())
            ):
                return uri
        raise _reject(uri, "not under an allow-listed URL prefix")

    def _check_path(self, uri: str, text: str) -> str:
        if _PERCENT.search(text):
            raise _reject(uri, "percent-encoded characters are not allowed in paths")
        if ".." in text.split("/"):
            raise _reject(uri, "'..' is not allowed in paths")
        if text.lower().endswith(_FORBIDDEN_SUFFIXES):
            raise _reject(uri, "VRT files are not allowed (they can point anywhere)")
        path = Path(text)
        if not path.is_absolute():
            path = self.roots[0] / path
        lexical = Path(os.path.normpath(path))
        real = Path(os.path.realpath(lexical))  # follows links; reads no file's content
        if any(_inside(real, root) for root in self.roots):
            return str(real)
        if any(_inside(lexical, root) for root in self.roots):
            raise _reject(uri, "a symbolic link leads outside the allowed roots")
        raise _reject(uri, "outside the allowed roots")
