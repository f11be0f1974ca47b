"""Which files one request may read: tenant isolation on top of the roots' confinement.

`Roots.check` (roots.py) keeps every path inside the server's roots, but every project shares
those roots. A request (an import's sources, `Image.loadGeoTIFF`, `Image.loadZarr...`) may read
a confined file only when one of these holds (ADR 0034, docs/security.md):

1. the caller may read an asset the file backs (`AssetRecord.files`: its bands, masks and
   sources, looked up with `CatalogStore.assets_using`);
2. the file lies in a project's area, `<data dir>/projects/<project>/...`, and the caller may
   read that project (a role on `projects/<project>/assets`);
3. the file lies in a shared root (every root but the data dir: the bundled demo data, extra
   roots, OPENEE_ALLOWED_ROOTS), or it is an allow-listed URL.

A file elsewhere in the data dir (outside `projects/`) is readable only through rule 1: that is
where imports keep their mosaics and where files from before this rule lie. Where roots nest,
the deepest one decides (a project area inside the data dir inside a shared root is a project
area). The decision uses the real path (links resolved), so a link in one's own area that leads
into another project's area gives nothing.

No oracle: a refused file, a missing one and a path inside another project's area answer with
the same InvalidArgumentError (`unreadable`), worded from the URI as given.

Operators (`openee ingest`) and the trusted server itself do not go through this module.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from openee.catalog.roots import Roots
from openee.catalog.store import CatalogStore
from openee.errors import InvalidArgumentError

PROJECTS_DIR = "projects"  # under the data dir: one area per project


def unreadable(uri: str) -> InvalidArgumentError:
    """The one answer for a file that is missing or that the caller may not read."""
    shown = "".join(c if c.isprintable() else "?" for c in uri[:200])
    return InvalidArgumentError(
        f"Cannot read '{shown}': no such file, or the caller may not read it."
    )


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


class FileAccess:
    """The files one caller may read, as a check that gives the confined path or refuses.

    Args:
        roots: The server's roots (the first is the data dir).
        catalog: The whole catalog (not a caller's view), to find the assets using a file.
        can_read: Whether the caller may read a resource: an asset name, or a project root
            `projects/{p}/assets`.
    """

    def __init__(
        self, roots: Roots, catalog: CatalogStore, can_read: Callable[[str], bool]
    ) -> None:
        self.roots = roots
        self._catalog = catalog
        self._can_read = can_read

    @property
    def data_dir(self) -> Path:
        return self.roots.roots[0]

    def check(self, uri: str) -> str:
        """The confined form of `uri` (see `Roots.check`) if the caller may read it.

        Raises:
            InvalidArgumentError: `unreadable(uri)` when the file is missing or the caller may
                not read it; the roots' own refusal for a path no caller may name.
        """
        lexical = self._lexical(uri)
        if lexical is not None and not self._readable(lexical, str(lexical)):
            # Before the roots look at links: nothing about another project's files leaks.
            raise unreadable(uri)
        path = self.roots.check(uri)
        if path.startswith("/"):  # a local path (an allow-listed URL comes back as given)
            self.allow(uri, path)
        return path

    def allow(self, uri: str, path: str) -> None:
        """Refuses (as `unreadable(uri)`) a confined local `path` the caller may not read or
        that does not exist."""
        if not self._readable(Path(path), path) or not os.path.exists(path):
            raise unreadable(uri)

    def _readable(self, path: Path, text: str) -> bool:
        return self._area_readable(path) or self._backs_readable_asset(text)

    def _lexical(self, uri: str) -> Path | None:
        """The path `uri` names before links are resolved; None for a URL or a path with a
        `..` segment (the roots refuse both from the text)."""
        text = uri
        if isinstance(uri, str) and uri.lower().startswith("file://"):
            text = uri[len("file://") :]
        elif not isinstance(uri, str) or "://" in uri or ":" in uri.split("/", 1)[0]:
            return None
        if ".." in text.split("/"):
            return None  # Roots.check refuses it from the text alone
        path = Path(text)
        if not path.is_absolute():
            path = self.data_dir / path
        return Path(os.path.normpath(path))

    def _area_readable(self, path: Path) -> bool:
        """Rules 2 and 3: the deepest root or project area holding `path` decides."""
        data = self.data_dir
        shared = [r for r in self.roots.roots[1:] if _inside(path, r)]
        deepest_shared = max((len(r.parts) for r in shared), default=-1)
        projects = data / PROJECTS_DIR
        if _inside(path, projects) and path != projects:
            project = path.relative_to(projects).parts[0]
            if len(projects.parts) + 1 > deepest_shared:
                return self._can_read(f"projects/{project}/assets")
        # Elsewhere in the data dir: no; in a shared root, or outside every root (which
        # Roots.check refuses): yes.
        return not (_inside(path, data) and len(data.parts) > deepest_shared)

    def _backs_readable_asset(self, path: str) -> bool:
        """Rule 1: the caller may read one of the assets `path` backs."""
        return any(self._can_read(name) for name in self._catalog.assets_using(path))
