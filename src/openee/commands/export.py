"""`openee export estimate FILE`: the size of an image export before it runs, from the data dir.

FILE (or `-` for stdin) holds the body the client POSTs to `image:export` (what
`Export.image.*(...).config` serializes to), or a bare Expression (`{"result": ..., "values":
...}`), exported then as one GeoTIFF per 32768 pixels a side. The expression is evaluated in
this process against the data dir's catalog, as `openee ingest` and `openee operations` work on
it: an operator's tool that needs no running server and no key (docs/decisions/0044). It prints
what `image:estimateExport` answers: the grid, files, pixels, output bytes, the decoded bytes of
the source windows to read, chunks, and a time estimate from the throughput of the project's
finished image exports.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from openee.errors import OpeneeError
from openee.settings import Settings


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("export", help="estimate an image export before running it")
    actions = parser.add_subparsers(dest="action", required=True)
    cmd = actions.add_parser(
        "estimate",
        help="grid, pixels, bytes, source bytes, chunks and time of an image export",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
    )
    cmd.add_argument(
        "file", help="an image:export request body or an Expression, as JSON ('-': stdin)"
    )
    cmd.add_argument("--data-dir", type=Path, default=None, help="default: $OPENEE_DATA_DIR")
    cmd.add_argument("--project", default=None, help="default: the server's default project")
    cmd.add_argument("--json", action="store_true", help="print the estimate as JSON")
    parser.set_defaults(func=run)


def request_body(document: Any) -> dict[str, Any]:
    """The image:export body a file holds: the body itself, or a bare Expression exported as
    GeoTIFF files with the defaults."""
    if isinstance(document, dict) and "expression" in document:
        return document
    if isinstance(document, dict) and "result" in document:
        return {"expression": document, "fileExportOptions": {"fileFormat": "GEO_TIFF"}}
    raise ValueError("expected an image:export body ({'expression': ...}) or an Expression")


def _mib(n: int) -> str:
    return f"{n:,} bytes ({n / 2**20:,.1f} MiB)"


def describe(estimate: dict[str, Any]) -> list[str]:
    grid = estimate["grid"]
    dims = grid["dimensions"]
    a, b, c, d, e, f = grid["transform"]
    lines = [
        f"grid:          {dims['width']} x {dims['height']} pixels, {grid['crs']}, "
        f"transform [{a}, {b}, {c}, {d}, {e}, {f}]",
        f"files:         {estimate['files']}",
        f"pixels:        {estimate['pixels']:,} x {estimate['bands']} bands ({estimate['dtype']})",
        f"output bytes:  {_mib(estimate['uncompressedBytes'])} uncompressed",
        f"source bytes:  {_mib(estimate['sourceBytes'])} decoded, "
        f"from {estimate['sourceFiles']} files",
        f"chunks:        {estimate['chunks']}",
    ]
    if "estimatedSeconds" in estimate:
        lines.append(
            f"time:          ~{estimate['estimatedSeconds']} s at "
            f"{estimate['pixelsPerSecond']:,} pixels/s (median of past image exports)"
        )
    else:
        lines.append("time:          unknown (no finished image export in this project yet)")
    return lines


def run(args: argparse.Namespace) -> int:
    # Imported here: every `openee` command imports this module to build its parser.
    from openee.algorithms import default_registry
    from openee.algorithms.context import EvalContext, evaluation_context
    from openee.api.export_options import image_options
    from openee.bootstrap import open_state
    from openee.catalog.roots import Roots
    from openee.catalog.store import open_store
    from openee.graph.evaluate import evaluate
    from openee.services.exports import estimate_image

    settings = Settings.from_env(data_dir=args.data_dir)
    project = args.project or settings.default_project
    try:
        text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text()
        body = request_body(json.loads(text))
    except (OSError, ValueError) as exc:
        print(f"openee export estimate: {args.file}: {exc}", file=sys.stderr)
        return 2
    if not settings.data_dir.is_dir():
        print(f"openee export estimate: no data dir at {settings.data_dir}", file=sys.stderr)
        return 1
    catalog = open_store(settings.catalog_target)
    operations = (
        open_state(settings).operations
        if settings.state_dsn is not None or settings.operations_path.exists()
        else None
    )
    try:
        ctx = EvalContext(
            catalog, project, None, settings.chunk_size, roots=Roots.for_data_dir(settings.data_dir)
        )
        with evaluation_context(ctx):
            value = evaluate(body["expression"], default_registry())
        estimate = estimate_image(
            value, image_options(body), settings.chunk_size, operations, project
        )
    except OpeneeError as exc:
        print(f"openee export estimate: {exc.message}", file=sys.stderr)
        return 2
    finally:
        catalog.close()
        if operations is not None:
            operations.close()
    if args.json:
        print(json.dumps(estimate, indent=2))
    else:
        print("\n".join(describe(estimate)))
    return 0
