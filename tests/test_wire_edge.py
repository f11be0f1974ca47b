"""No module below `api/` reads the request JSON (docs/decisions/0051): the keys of the request
bodies (pixels, pages, exports) are looked up only at the HTTP edge (and in the command layer
above it), which builds the typed requests the services take."""

from __future__ import annotations

import ast
from pathlib import Path

from test_layers import SRC, _layer

# The request-body keys of the pixels, page and export methods (with those of a wire PixelGrid
# and of the export options): a module below api/ that subscripts or .get()s one of them from a
# dict is parsing the wire form.
WIRE_KEYS = frozenset(
    {
        "fileFormat",
        "bandIds",
        "visualizationOptions",
        "grid",
        "crsCode",
        "crsWkt",
        "affineTransform",
        "scaleX",
        "translateX",
        "dimensions",
        "ranges",
        "paletteColors",
        "region",
        "pageSize",
        "pageToken",
        "fileExportOptions",
        "assetExportOptions",
        "tileExportOptions",
        "tileOptions",
        "videoOptions",
        "tfRecordOptions",
        "earthEngineDestination",
        "cloudStorageDestination",
        "driveDestination",
        "filenamePrefix",
        "bucket",
        "folder",
        "overwrite",
        "geoTiffOptions",
        "cloudOptimized",
        "noData",
        "skipEmptyFiles",
        "tileSize",
        "pyramidingPolicy",
        "tileDimensions",
        "marginDimensions",
        "maxSizeBytes",
        "tensorDepths",
        "startZoom",
        "endZoom",
        "skipEmpty",
        "framesPerSecond",
        "maxFrames",
        "maxPixelsPerFrame",
        "description",
        "requestId",
        "priority",
        "selectors",
        "maxPixels",
        "expression",
    }
)
# (module, key) read below api/ on purpose, with the reason.
ALLOWED = {
    # An ImageManifest's maskBands[].bandIds: the manifest is a document the catalog reads from
    # imports, from manifests on disk and from the exports that register their outputs.
    ("openee.catalog.manifests", "bandIds"),
}
_EDGE = _layer("api")
_READS = ("get", "pop", "setdefault")


def _key(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def wire_reads(root: Path) -> list[str]:
    """Every read of a wire key (`x["key"]`, `x.get("key")`) in a module below api/."""
    found = []
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root.parent).with_suffix("").parts
        module = ".".join(p for p in parts if p != "__init__")
        package = parts[1] if len(parts) > 2 else ""
        if _layer(package) <= _EDGE:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            key = None
            if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
                key = _key(node.slice)
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in _READS
                and node.args
            ):
                key = _key(node.args[0])
            if key in WIRE_KEYS and (module, key) not in ALLOWED:
                found.append(f"{module} reads '{key}' (line {node.lineno})")
    return found


def test_no_module_below_the_api_reads_the_request_json() -> None:
    assert wire_reads(SRC) == []


def test_the_checker_reports_a_read_below_the_api(tmp_path: Path) -> None:
    package = tmp_path / "openee"
    for name in ("services", "api", "engine"):
        (package / name).mkdir(parents=True)
    (package / "services" / "bad.py").write_text(
        "def f(body):\n    return body.get('fileExportOptions'), body['maxPixels']\n"
    )
    (package / "engine" / "ok.py").write_text("def g(d):\n    d['grid'] = 1\n    return d\n")
    (package / "api" / "edge.py").write_text("def h(body):\n    return body['region']\n")
    assert wire_reads(package) == [
        "openee.services.bad reads 'fileExportOptions' (line 2)",
        "openee.services.bad reads 'maxPixels' (line 2)",
    ]
