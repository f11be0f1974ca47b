"""The receipt of an export (beyond Earth Engine): what it computed, from what, into what, so
that a result can be reproduced and verified. Published as `<prefix>.receipt.json` next to the
outputs and returned in the operation's response.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from openee import __version__
from openee.catalog.names import name_from_id
from openee.catalog.store import CatalogStore
from openee.raster.image import Image
from openee.raster.sources import FileBand, children


def files_read(image: Image) -> list[str]:
    """The source files under the image's bands (what the export read)."""
    seen: dict[str, None] = {}
    stack = [b.source for b in image.bands]
    while stack:
        source = stack.pop()
        if isinstance(source, FileBand):
            seen[source.path] = None
        stack.extend(children(source))
    return sorted(seen)


def _load_ids(node: Any) -> Iterator[str]:
    """Asset ids the expression loads (`Image.load`, `ImageCollection.load`, ...)."""
    if isinstance(node, dict):
        call = node.get("functionInvocationValue")
        name = str(call.get("functionName", "")) if isinstance(call, dict) else ""
        if isinstance(call, dict) and name.rsplit(".", 1)[-1].startswith("load"):
            arg = (call.get("arguments") or {}).get("id") or (call.get("arguments") or {}).get(
                "tableId"
            )
            if isinstance(arg, dict) and isinstance(arg.get("constantValue"), str):
                yield arg["constantValue"]
        for value in node.values():
            yield from _load_ids(value)
    elif isinstance(node, list):
        for value in node:
            yield from _load_ids(value)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def receipt(
    catalog: CatalogStore,
    expression: Any,
    outputs: Sequence[tuple[Path, str]],
    sources: list[str],
) -> dict[str, Any]:
    """openee's version, the expression's SHA-256 (of its canonical JSON), the assets it loads
    with their catalog update times, the source files read, and each output's URI, size and
    SHA-256 (`outputs`: staged file and the URI it is published at)."""
    canonical = json.dumps(expression, sort_keys=True, separators=(",", ":"))
    assets = []
    for asset_id in sorted(set(_load_ids(expression))):
        record = catalog.get(name_from_id(asset_id))
        assets.append(
            {"id": asset_id, "updateTime": record.update_time if record is not None else None}
        )
    described = [
        {"uri": uri, "bytes": path.stat().st_size, "sha256": _sha256(path)} for path, uri in outputs
    ]
    return {
        "openeeVersion": __version__,
        "expressionSha256": hashlib.sha256(canonical.encode()).hexdigest(),
        "assets": assets,
        "sourceFiles": sources,
        "outputs": described,
    }
