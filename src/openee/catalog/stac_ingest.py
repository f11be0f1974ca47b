"""Ingest a static STAC catalog or collection into an image collection of the catalog."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pystac
from pystac.stac_io import DefaultStacIO

from openee.catalog.model import IMAGE, IMAGE_COLLECTION, AssetRecord, BandRecord
from openee.catalog.names import name_from_id
from openee.catalog.profiles import Profile
from openee.catalog.roots import Roots
from openee.catalog.store import CatalogStore, missing_folders
from openee.catalog.urls import resolve_url
from openee.raster.gdal import open_checked
from openee.values.date import Date

Progress = Callable[[int, int, str], None]


class ConfinedStacIO(DefaultStacIO):
    """pystac's reader of STAC documents, for hrefs inside the roots only: a catalog's links
    may name any path or URL, and following one is a read the operator did not allow."""

    def __init__(self, roots: Roots) -> None:
        super().__init__()
        self.roots = roots

    def read_text(self, source: Any, *args: Any, **kwargs: Any) -> str:
        href = str(source)
        checked = self.roots.check(href)
        if "://" in checked:
            checked = resolve_url(checked, self.roots)
        return super().read_text(checked, *args, **kwargs)


def _band_record(ee_name: str, path: Path | str) -> BandRecord:
    with open_checked(path) as src:
        return BandRecord(
            id=ee_name,
            path=str(path),  # a checked path or an allow-listed URL
            index=1,
            dtype=src.dtypes[0],
            crs=src.crs.to_string(),
            transform=tuple(src.transform)[:6],
            width=src.width,
            height=src.height,
            nodata=src.nodata,
        )


def item_record(
    item: pystac.Item, collection_name: str, profile: Profile, roots: Roots | None = None
) -> AssetRecord:
    """The catalog record of one STAC item: bands from local asset files, EE-named properties.
    With `roots`, every asset href must pass `Roots.check` (absolute paths, `..`, URLs and
    `/vsi...` are refused unless inside the roots or allow-listed)."""
    bands = []
    for key, ee_name in profile.bands.items():
        asset = item.assets.get(key)
        if asset is None:
            continue
        href = asset.get_absolute_href() or asset.href
        if roots is not None:
            href = roots.check(href)
            if "://" in href:
                href = resolve_url(href, roots)
        bands.append(_band_record(ee_name, href if "://" in href else Path(href)))
    props: dict[str, Any] = profile.map_properties(dict(item.properties))
    start = Date.parse(
        item.datetime.isoformat() if item.datetime else item.properties["start_datetime"]
    )
    name = f"{collection_name}/{item.id}"
    props["system:time_start"] = start.millis
    props["system:time_end"] = start.millis
    props["system:index"] = item.id
    if item.geometry:
        props["system:footprint"] = item.geometry
    return AssetRecord(
        name=name,
        type=IMAGE,
        properties=props,
        start_time=start.millis,
        end_time=start.millis,
        footprint=item.geometry,
        bands=tuple(bands),
    )


def ingest_stac(
    store: CatalogStore,
    source: Path,
    collection_id: str,
    profile: Profile,
    progress: Progress | None = None,
) -> int:
    """Ingest every item under a STAC catalog/collection file as images of `collection_id`.

    Writes the folders, the collection and all its images in one transaction: a failure leaves
    the catalog as it was. Returns the number of images.
    """
    root = pystac.read_file(str(source))
    items = list(root.get_items(recursive=True)) if isinstance(root, pystac.Catalog) else [root]
    collection_name = name_from_id(collection_id)
    records: list[AssetRecord] = []
    for i, item in enumerate(items):
        if not isinstance(item, pystac.Item):
            continue
        records.append(item_record(item, collection_name, profile))
        if progress:
            progress(i + 1, len(items), item.id)
    times = [r.start_time for r in records if r.start_time is not None]
    collection = AssetRecord(
        name=collection_name,
        type=IMAGE_COLLECTION,
        properties={"source": str(source.name), "profile": profile.name},
        start_time=min(times) if times else None,
        end_time=max(times) if times else None,
    )
    store.put_many([*missing_folders(collection_name, store), collection, *records])
    return len(records)
