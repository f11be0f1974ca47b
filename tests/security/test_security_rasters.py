"""Raster reads of hostile files (issue 16, items 4-5 and 7): drivers pinned at every open
(loadGeoTIFF, the compute read path, ingest), sidecars confined on every read, Zarr links
checked before any metadata is read. Oracle: the canary listener sees 0 requests, the canary
files outside the roots are never read (atime) and their value/token is in no answer."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import numpy as np
from security_kit import CANARY_VALUE, TOKEN, Api, Listener, Outside, succeeded, write_tif

from openee.catalog.ingest import ingest
from openee.catalog.sqlite import SqliteCatalog


def pixels(response: object) -> np.ndarray | None:
    """The pixel values of an NPY answer (None for an error answer, which must be a 4xx)."""
    status = response.status_code  # type: ignore[attr-defined]
    assert status < 500, response.text  # type: ignore[attr-defined]
    if status != 200:
        assert TOKEN not in response.text  # type: ignore[attr-defined]
        return None
    array = np.load(io.BytesIO(response.content))  # type: ignore[attr-defined]
    return np.asarray(array[array.dtype.names[0]] if array.dtype.names else array)


def no_canary(response: object) -> bool:
    values = pixels(response)
    return values is None or not (values == CANARY_VALUE).any()


def stac_item_collection(canary: Listener, outside: Outside) -> str:
    """What GDAL's STACIT driver opens as a mosaic of its items' assets."""
    proj = {"proj:epsg": 32633, "proj:shape": [64, 64],
            "proj:transform": [120, 0, 500000, 0, -120, 5100000]}  # fmt: skip

    def item(i: int, href: str) -> dict[str, object]:
        return {
            "type": "Feature",
            "stac_version": "1.0.0",
            "stac_extensions": ["https://stac-extensions.github.io/projection/v1.1.0/schema.json"],
            "id": f"x{i}",
            "geometry": {"type": "Polygon",
                         "coordinates": [[[13, 45], [14, 45], [14, 46], [13, 46], [13, 45]]]},
            "bbox": [13, 45, 14, 46],
            "properties": {"datetime": "2023-01-01T00:00:00Z", **proj},
            "assets": {"data": {"href": href, "type": "image/tiff; application=geotiff", **proj}},
            "links": [],
        }  # fmt: skip

    features = [item(0, f"{canary.url}/a.tif"), item(1, str(outside.dir / "secret.tif"))]
    return json.dumps({"type": "FeatureCollection", "stac_version": "1.0.0", "features": features})


def test_load_geotiff_of_a_stac_item_collection_named_tif_fetches_nothing(
    api: Api, uploads: Path, canary: Listener, outside: Outside
) -> None:
    path = uploads / "items.tif"
    path.write_text(stac_item_collection(canary, outside))
    assert no_canary(api.load_geotiff(str(path)))
    assert canary.hits == [] and outside.untouched()


def vrt_of(source: Path, size: int = 64) -> str:
    return (
        f'<VRTDataset rasterXSize="{size}" rasterYSize="{size}">'
        "<SRS>EPSG:32633</SRS><GeoTransform>500000,120,0,5100000,0,-120</GeoTransform>"
        '<VRTRasterBand dataType="UInt16" band="1"><SimpleSource>'
        f"<SourceFilename>{source}</SourceFilename><SourceBand>1</SourceBand>"
        "</SimpleSource></VRTRasterBand></VRTDataset>"
    )


def test_an_overview_planted_after_import_is_not_read(
    api: Api, uploads: Path, outside: Outside
) -> None:
    path = write_tif(uploads / "plain.tif", 7, size=64)
    assert succeeded(api.import_image("plain", [str(path)]))
    (uploads / "plain.tif.ovr").symlink_to(outside.dir / "secret.ovr")
    assert no_canary(api.get_pixels("plain", scale=240.0))
    assert outside.untouched()


def test_load_geotiff_reads_no_overview_linked_outside(
    api: Api, uploads: Path, outside: Outside
) -> None:
    path = write_tif(uploads / "linked.tif", 7, size=64)
    (uploads / "linked.tif.ovr").symlink_to(outside.dir / "secret.ovr")
    assert no_canary(api.load_geotiff(str(path), scale=240.0))
    assert outside.untouched()


def test_an_aux_xml_overview_file_is_not_followed(
    api: Api, uploads: Path, outside: Outside
) -> None:
    path = write_tif(uploads / "aux.tif", 7, size=64)
    (uploads / "aux.tif.aux.xml").write_text(
        '<PAMDataset><Metadata domain="OVERVIEWS">'
        f'<MDI key="OVERVIEW_FILE">{outside.dir / "secret.ovr"}</MDI>'
        "</Metadata></PAMDataset>"
    )
    assert no_canary(api.load_geotiff(str(path), scale=240.0))
    assert outside.untouched()


def test_an_overview_file_that_is_a_vrt_is_not_opened(
    api: Api, uploads: Path, outside: Outside
) -> None:
    path = write_tif(uploads / "ovrvrt.tif", 7, size=64)
    (uploads / "ovrvrt.tif.ovr").write_text(vrt_of(outside.dir / "secret.tif", 32))
    assert no_canary(api.load_geotiff(str(path), scale=240.0))
    assert outside.untouched()


def test_a_zarray_linked_outside_is_not_read(api: Api, uploads: Path, outside: Outside) -> None:
    secret = outside.dir / "secret.zarray"
    secret.write_text(json.dumps({"zarr_format": 2, "shape": [4, 4], "dtype": TOKEN}))
    mtime = os.stat(secret).st_mtime
    os.utime(secret, (mtime - 3600, mtime))
    array = uploads / "linked.zarr"
    array.mkdir()
    (array / ".zarray").symlink_to(secret)
    (array / ".zattrs").write_text(json.dumps({"_ARRAY_DIMENSIONS": ["y", "x"]}))
    values = {
        "p": {"functionInvocationValue": {"functionName": "Projection",
                                          "arguments": {"crs": {"constantValue": "EPSG:4326"}}}},
        "0": {"functionInvocationValue": {"functionName": "Image.loadZarrV2Array",
                                          "arguments": {"uri": {"constantValue": str(array)},
                                                        "proj": {"valueReference": "p"}}}},
    }  # fmt: skip
    answer = api.post("value:compute", {"expression": {"result": "0", "values": values}})
    assert 400 <= answer.status_code < 500 and TOKEN not in answer.text
    assert os.stat(secret).st_atime < os.stat(secret).st_mtime


def test_ingest_registers_no_tif_that_is_a_vrt(tmp_path: Path, outside: Outside) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "scene.tif").write_text(vrt_of(outside.dir / "secret.tif", 16))
    (source / "raw.tif").write_text(
        vrt_of(outside.dir / "secret.txt").replace(
            "<SimpleSource>", '<SimpleSource subClass="VRTRawRasterBand">'
        )
    )
    store = SqliteCatalog(tmp_path / "c.sqlite")
    report = ingest(store, [source], "VRT")
    assert sorted(Path(f).name for f, _ in report.failed) == ["raw.tif", "scene.tif"]
    assert store.get("projects/earthengine-legacy/assets/VRT/scene") is None
    assert outside.untouched()
