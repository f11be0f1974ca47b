"""Where export outputs go, and how they get there without ever being seen half-written.

- `cloudStorageDestination{bucket, filenamePrefix}`: the bucket map (OPENEE_BUCKETS) names a URL
  root per bucket (`s3://...`, `gs://...`, `memory://...` through fsspec, or a local folder);
  a bucket it does not name is the folder `<data dir>/buckets/<bucket>`.
- `driveDestination{folder, filenamePrefix}`: `<data dir>/drive/<principal>/<folder>/`.

Outputs are computed into a staging folder of the operation (`<data dir>/exports-staging/<id>`)
and published only once every file is complete (docs/decisions/0029): a local file is copied
next to its final name under a hidden temporary name and renamed over it (atomic on one file
system); an object store gets one `put` of the complete file (an object appears whole or not at
all). A cancelled or failed export publishes nothing.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openee.errors import FailedPreconditionError, InvalidArgumentError

log = logging.getLogger("openee.exports")

STAGING_DIR = "exports-staging"
BUCKETS_DIR = "buckets"
DRIVE_DIR = "drive"

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
        return f"{self.uri_root.rstrip('/')}/{self.prefix}{suffix}"

    def _target(self, suffix: str) -> str:
        return f"{self.root.rstrip('/')}/{self.prefix}{suffix}"

    def publish(self, files: Sequence[tuple[Path, str]]) -> list[str]:
        """Copies each complete staged file to `<prefix><suffix>`; returns their URIs."""
        if _is_local(self.root):
            for staged, suffix in files:
                _publish_local(staged, _local_path(self._target(suffix)))
        else:
            fs, base = _filesystem(self.root)
            for staged, suffix in files:
                try:
                    target = f"{base.rstrip('/')}/{self.prefix}{suffix}"
                    parent = target.rsplit("/", 1)[0]
                    if parent:
                        fs.makedirs(parent, exist_ok=True)
                    fs.put_file(str(staged), target)
                except Exception as exc:  # object-store clients raise their own types
                    log.warning("export publish to %s failed", self.uri(suffix), exc_info=True)
                    raise FailedPreconditionError(
                        f"Writing '{self.uri(suffix)}' failed: {type(exc).__name__}: {exc}"
                    ) from None
        return [self.uri(suffix) for _, suffix in files]

    def exists(self, suffix: str) -> bool:
        if _is_local(self.root):
            return _local_path(self._target(suffix)).exists()
        fs, base = _filesystem(self.root)
        return bool(fs.exists(f"{base.rstrip('/')}/{self.prefix}{suffix}"))


def _publish_local(staged: Path, target: Path) -> None:
    """Copy under a hidden temporary name in the target's folder, then rename over the target."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex}.partial")
        try:
            shutil.copyfile(staged, temporary)
            with open(temporary, "rb+") as f:
                os.fsync(f.fileno())
            os.replace(temporary, target)
        finally:
            temporary.unlink(missing_ok=True)
    except OSError as exc:
        raise FailedPreconditionError(
            f"Writing '{target}' failed: {type(exc).__name__}: {exc.strerror or exc}"
        ) from None


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
    data_dir: Path, buckets: Sequence[tuple[str, str]], bucket: Any, prefix: str
) -> FileDestination:
    """The files of a cloudStorageDestination, through the bucket map."""
    if not isinstance(bucket, str) or not _BUCKET.match(bucket) or ".." in bucket:
        raise InvalidArgumentError(f"Invalid bucket name: '{str(bucket)[:100]}'.")
    mapped = dict(buckets).get(bucket)
    if mapped is None:
        root = str(data_dir / BUCKETS_DIR / bucket)
        return FileDestination(root, prefix, Path(root).absolute().as_uri())
    uri_root = _local_path(mapped).absolute().as_uri() if _is_local(mapped) else mapped
    return FileDestination(mapped, prefix, uri_root)


def drive_destination(data_dir: Path, principal: str, folder: Any, prefix: str) -> FileDestination:
    """The files of a driveDestination: a folder of the caller's own under the data dir."""
    owner = re.sub(r"[^A-Za-z0-9@._-]", "_", principal) or "anonymous"
    if folder in (None, ""):
        sub = ""
    elif isinstance(folder, str):
        sub = safe_relative(folder, "Drive folder") + "/"
    else:
        raise InvalidArgumentError("driveDestination.folder must be a string.")
    root = data_dir / DRIVE_DIR / owner
    return FileDestination(str(root), sub + prefix, (root).absolute().as_uri())


def staging_dir(data_dir: Path, op_id: str) -> Path:
    return data_dir / STAGING_DIR / op_id


def clear_staging(data_dir: Path, keep: Collection[str] = ()) -> None:
    """Remove what exports cut short by a stop or a crash left in staging, except the folders
    of the operations in `keep` (being resumed)."""
    root = data_dir / STAGING_DIR
    if not root.is_dir():
        return
    for folder in root.iterdir():
        if folder.name not in keep:
            shutil.rmtree(folder, ignore_errors=True)
