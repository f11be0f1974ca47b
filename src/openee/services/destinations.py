"""Where export outputs go, and how they get there without ever being seen half-written.

- `cloudStorageDestination{bucket, filenamePrefix}`: the bucket map (OPENEE_BUCKETS) names a URL
  root per bucket (`s3://...`, `gs://...`, `memory://...` through fsspec, or a local folder);
  a bucket it does not name is the folder `<data dir>/buckets/<bucket>`.
- `driveDestination{folder, filenamePrefix}`: `<data dir>/drive/<principal>/<folder>/`.

Outputs are computed into a staging folder of the operation (`<data dir>/exports-staging/<id>`)
and published only once every file is complete (docs/decisions/0029), as one set: all files or
none (`publish.py`, docs/decisions/0044). A cancelled or failed export publishes nothing.
"""

from __future__ import annotations

import logging
import re
import shutil
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from openee.errors import FailedPreconditionError, InvalidArgumentError
from openee.services.publish import publish_local, publish_objects, recover_publications

log = logging.getLogger("openee.exports")

STAGING_DIR = "exports-staging"
BUCKETS_DIR = "buckets"
DRIVE_DIR = "drive"
DRIVE_ROUTE = "/v1/drive"  # the download links of Drive exports: <base URL>/v1/drive/<owner>/...

# Google Cloud Storage bucket names (3-63 of lower-case letters, digits, '-', '_', '.').
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$")
_SEGMENT = re.compile(r"^[\w][\w .()+=@,-]*$")
_MAX_PREFIX = 1024


def safe_relative(text: str, what: str) -> str:
    """A relative path of plain segments ('a/b/c'): no '..', no absolute path, no odd bytes."""
    parts = [p for p in text.split("/") if p]
    if len(text) > _MAX_PREFIX or not parts or not all(_SEGMENT.match(p) for p in parts):
        raise InvalidArgumentError(
            f"Invalid {what} '{text[:100]}': use letters, digits, '/', '.', '_' and '-'."
        )
    if any(set(p) <= {"."} for p in parts):
        raise InvalidArgumentError(f"Invalid {what} '{text[:100]}': '.' and '..' are not allowed.")
    return "/".join(parts)


def _is_local(root: str) -> bool:
    return "://" not in root or root.startswith("file://")


def _local_path(root: str) -> Path:
    return Path(root.removeprefix("file://"))


@dataclass(frozen=True)
class FileDestination:
    """Files named `<root>/<prefix><suffix>`; `uri_root` is how they are named to the user."""

    root: str
    prefix: str
    uri_root: str

    def uri(self, suffix: str) -> str:
        name = f"{self.prefix}{suffix}"
        if self.uri_root.startswith(("http://", "https://")):  # a download link: URL-quoted
            name = quote(name, safe="/")
        return f"{self.uri_root.rstrip('/')}/{name}"

    def _target(self, suffix: str) -> str:
        return f"{self.root.rstrip('/')}/{self.prefix}{suffix}"

    def publish(self, files: Sequence[tuple[Path, str]], journal: Path | None = None) -> list[str]:
        """Publishes the staged files as `<prefix><suffix>`, the last one last, as one set:
        all of them or, on a failure, none (`publish.py`); returns their URIs. `journal` (in
        the operation's staging folder) lets a restarted server undo a publish cut short."""
        if _is_local(self.root):
            publish_local(
                [(staged, _local_path(self._target(suffix))) for staged, suffix in files], journal
            )
        else:
            fs, base = _filesystem(self.root)
            by_key = {f"{base.rstrip('/')}/{self.prefix}{s}": s for _, s in files}
            publish_objects(
                fs,
                [(staged, f"{base.rstrip('/')}/{self.prefix}{s}") for staged, s in files],
                journal,
                self.root,
                lambda key: self.uri(by_key.get(key, "")),
            )
        return [self.uri(suffix) for _, suffix in files]

    def exists(self, suffix: str) -> bool:
        if _is_local(self.root):
            return _local_path(self._target(suffix)).exists()
        fs, base = _filesystem(self.root)
        return bool(fs.exists(f"{base.rstrip('/')}/{self.prefix}{suffix}"))


def _filesystem(root: str) -> tuple[Any, str]:
    try:
        import fsspec
    except ImportError:  # pragma: no cover - fsspec ships with the test extras
        raise FailedPreconditionError(
            f"The export bucket '{root}' needs fsspec (pip install fsspec s3fs)."
        ) from None
    try:
        fs, path = fsspec.core.url_to_fs(root)
    except (ImportError, ValueError) as exc:
        raise FailedPreconditionError(
            f"The export bucket '{root}' cannot be opened: {exc}"
        ) from None
    return fs, str(path)


def bucket_destination(
    data_dir: Path, buckets: Sequence[tuple[str, str]], bucket: str, prefix: str
) -> FileDestination:
    """The files of a cloudStorageDestination, through the bucket map."""
    if not _BUCKET.match(bucket) or ".." in bucket:
        raise InvalidArgumentError(f"Invalid bucket name: '{str(bucket)[:100]}'.")
    mapped = dict(buckets).get(bucket)
    if mapped is None:
        root = str(data_dir / BUCKETS_DIR / bucket)
        return FileDestination(root, prefix, Path(root).absolute().as_uri())
    uri_root = _local_path(mapped).absolute().as_uri() if _is_local(mapped) else mapped
    return FileDestination(mapped, prefix, uri_root)


def drive_owner(principal: str) -> str:
    """The folder name of a principal's Drive under `<data dir>/drive/`."""
    return re.sub(r"[^A-Za-z0-9@._-]", "_", principal) or "anonymous"


def drive_destination(
    data_dir: Path, principal: str, folder: str | None, prefix: str, base_url: str | None = None
) -> FileDestination:
    """The files of a driveDestination: a folder of the caller's own under the data dir,
    named to the user by download links of this server (`base_url/v1/drive/<owner>/...`,
    served to that principal only) when the server's base URL is given."""
    owner = drive_owner(principal)
    sub = safe_relative(folder, "Drive folder") + "/" if folder else ""
    root = data_dir / DRIVE_DIR / owner
    uri_root = (
        f"{base_url.rstrip('/')}{DRIVE_ROUTE}/{quote(owner, safe='@')}"
        if base_url
        else root.absolute().as_uri()
    )
    return FileDestination(str(root), sub + prefix, uri_root)


def drive_file(data_dir: Path, principal: str, owner: str, path: str) -> Path | None:
    """The file `path` of `owner`'s Drive if `principal` is that owner and it is a published
    file there; None otherwise (the caller answers both alike: not found). Hidden names
    (temporaries, staged sets) and paths leaving the folder are never served."""
    if owner != drive_owner(principal):
        return None
    try:
        relative = safe_relative(path, "path")
    except InvalidArgumentError:
        return None
    root = (data_dir / DRIVE_DIR / owner).resolve()
    target = (root / relative).resolve()
    if not target.is_relative_to(root) or not target.is_file():
        return None
    return target


def staging_dir(data_dir: Path, op_id: str) -> Path:
    return data_dir / STAGING_DIR / op_id


def recover(data_dir: Path) -> None:
    """At start, before exports resume: undo the publishes a killed server cut short."""
    recover_publications(data_dir / STAGING_DIR, _filesystem)


def clear_staging(data_dir: Path, keep: Collection[str] = ()) -> None:
    """Remove what exports cut short by a stop or a crash left in staging, except the folders
    of the operations in `keep` (being resumed)."""
    root = data_dir / STAGING_DIR
    if not root.is_dir():
        return
    for folder in root.iterdir():
        if folder.name not in keep:
            shutil.rmtree(folder, ignore_errors=True)
