"""`openee ingest SOURCE... --asset-id ID`: register imagery and vectors in the catalog."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from openee.errors import OpeneeError
from openee.settings import Settings

if TYPE_CHECKING:
    from openee.catalog.roots import Roots


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cmd = sub.add_parser(
        "ingest",
        help="add images or tables to the catalog",
        description=(
            "Ingest a folder of GeoTIFF/COG/JP2 files (Landsat and Sentinel-2 product layouts are"
            " recognized), a STAC catalog, collection or item, or vector files (GeoJSON,"
            " GeoPackage, Shapefile, GeoParquet) into the catalog. Safe to re-run, and to run"
            " while a server uses the same data dir."
        ),
    )
    cmd.add_argument(
        "sources",
        nargs="+",
        metavar="SOURCE",
        help="a file or folder, or s3://bucket/prefix/ or gs://bucket/prefix/ (the COGs under it,"
        " read in place; the prefix must be allow-listed in OPENEE_ALLOWED_URL_PREFIXES,"
        " credentials and endpoint come from the environment: AWS_ACCESS_KEY_ID,"
        " AWS_SECRET_ACCESS_KEY, AWS_ENDPOINT_URL; GOOGLE_APPLICATION_CREDENTIALS or"
        " GS_NO_SIGN_REQUEST, CPL_GS_ENDPOINT)",
    )
    cmd.add_argument("--asset-id", required=True, help="e.g. LANDSAT/LC08/C02/T1_L2")
    cmd.add_argument("--data-dir", type=Path, default=None, help="default: $OPENEE_DATA_DIR")
    cmd.add_argument(
        "--catalog",
        default=None,
        help="a postgresql:// DSN or a SQLite file (default: $OPENEE_CATALOG, else the data dir's"
        " SQLite)",
    )
    cmd.add_argument(
        "--cog",
        action="store_true",
        help="copy rasters into tiled DEFLATE COGs with overviews under <data dir>/cog/",
    )
    cmd.add_argument(
        "--dates",
        default="",
        help="comma-separated dates of a multi-date band stack (Theia L3A), in band order",
    )
    cmd.add_argument(
        "--template",
        default=None,
        help="read other layouts from file names, e.g. '{id}_{date:%%Y%%m%%d}_{band}.tif':"
        " {id} the image id (files with the same id are its bands), {date:FORMAT} the start"
        " time (strptime directives %%Y %%m %%d %%H %%M %%S %%j %%y %%b, UTC; {date} alone is"
        " %%Y-%%m-%%d), {band} the band name (without it, bands b1..bN of each file), any other"
        " {NAME} a property, * anything; the whole file name must match",
    )
    cmd.add_argument(
        "--allow-root",
        action="append",
        type=Path,
        default=[],
        metavar="DIR",
        help="a directory STAC hrefs and linked files may also lead to (repeatable); the"
        " sources' directories, the data dir and $OPENEE_ALLOWED_ROOTS always are",
    )
    cmd.add_argument(
        "--allow-url-prefix",
        action="append",
        default=[],
        metavar="URL",
        help="a URL prefix (https://host/path/, s3://bucket/prefix/ or gs://bucket/prefix/) STAC"
        " hrefs and bucket sources may name (repeatable); besides"
        " $OPENEE_ALLOWED_URL_PREFIXES. Any other URL, /vsi... path or VRT is refused",
    )
    cmd.set_defaults(func=run)


class StderrProgress:
    """A one-line progress bar on a terminal; a line per 10 % otherwise."""

    def __init__(self, stream: TextIO = sys.stderr, width: int = 30) -> None:
        self.stream = stream
        self.width = width
        self.tty = stream.isatty()
        self._last = -1

    def __call__(self, done: int, total: int, label: str) -> None:
        share = done / total if total else 1.0
        if self.tty:
            filled = int(self.width * share)
            bar = "#" * filled + "-" * (self.width - filled)
            self.stream.write(f"\r[{bar}] {done}/{total} {label[:40]:<40}")
            if done == total:
                self.stream.write("\n")
        else:
            step = int(share * 10)
            if step == self._last and done != total:
                return
            self._last = step
            self.stream.write(f"{done}/{total} {label}\n")
        self.stream.flush()


def _sources(given: list[str], roots: Roots) -> list[Path | str]:
    """Local sources as paths; `s3://`/`gs://` prefixes as given, once the allow-list takes them
    (the same check a request's URIs pass: catalog/roots.py)."""
    return [roots.check(source) if "://" in source else Path(source) for source in given]


def run(args: argparse.Namespace) -> int:
    # Imported here: rasterio, pyogrio and pystac take a second to load, and every `openee`
    # command imports this module to build its argument parser.
    from openee.catalog.ingest import COG_DIR, ingest
    from openee.catalog.roots import Roots
    from openee.catalog.store import open_store
    from openee.raster.gdal import confine_sidecars_to

    settings = Settings.from_env(data_dir=args.data_dir)
    local = [Path(s) for s in args.sources if "://" not in s]
    try:
        roots = Roots.for_data_dir(
            settings.data_dir,
            [
                *(p if p.is_dir() else p.parent for p in local),
                *settings.allowed_roots,
                *args.allow_root,
            ],
            [*settings.allowed_url_prefixes, *args.allow_url_prefix],
        )
    except ValueError as exc:
        print(f"openee ingest: {exc}", file=sys.stderr)
        return 2
    try:
        sources = _sources(args.sources, roots)
    except OpeneeError as exc:
        print(f"openee ingest: {exc.message}", file=sys.stderr)
        return 2
    confine_sidecars_to(roots.roots)
    store = open_store(args.catalog or settings.catalog_target)
    dates = [d.strip() for d in args.dates.split(",") if d.strip()]
    started = time.monotonic()
    try:
        report = ingest(
            store,
            sources,
            args.asset_id,
            cog_dir=settings.data_dir / COG_DIR if args.cog else None,
            dates=dates,
            template=args.template,
            progress=StderrProgress(),
            roots=roots,
        )
    except OpeneeError as exc:
        print(f"openee ingest: {exc.message}", file=sys.stderr)
        return 2
    finally:
        store.close()
    report.seconds = time.monotonic() - started
    for line in report.recognition():
        print(line, file=sys.stderr)
    for what, why in report.failed:
        print(f"openee ingest: {what}: {why}", file=sys.stderr)
    print(report.summary(), file=sys.stderr)
    return 1 if report.failed else 0
