"""Image.loadZarrV2Array and ImageCollection.loadZarrV2Array through the stock client, against
numpy indexing of the same array; arrays are written with the zarr package in the data dir."""

from __future__ import annotations

from pathlib import Path

import numcodecs
import numpy as np
import pytest
import zarr
from affine import Affine
from oracle import Grid

FILL = -9999
SCALE = 0.01
ORIGIN = (10.0, 46.0)  # upper-left corner of the array, degrees
DIMS = ["time", "level", "lat", "lon"]


def values() -> np.ndarray:
    """A (time 4, level 3, lat 20, lon 30) int16 array whose every element is distinct; a few
    elements hold the fill value."""
    t, lv, y, x = np.indices((4, 3, 20, 30))
    data = (t * 1000 + lv * 100 + y * 3 + x).astype(np.int16)
    data[..., 5, 7] = FILL
    return data


def write_array(root: Path, name: str, data: np.ndarray, dims: list[str] | None) -> Path:
    path = root / "zarr" / name
    array = zarr.create_array(
        store=str(path),
        shape=data.shape,
        chunks=(1, 1, 8, 8) if data.ndim == 4 else (8, 8),
        dtype=data.dtype,
        zarr_format=2,
        fill_value=FILL,
        compressors=numcodecs.Zstd(level=3),
        attributes={} if dims is None else {"_ARRAY_DIMENSIONS": dims},
        overwrite=True,
    )
    array[...] = data
    return path


def proj(ee):
    return ee.Projection("EPSG:4326", [SCALE, 0, ORIGIN[0], 0, -SCALE, ORIGIN[1]])


def compute(ee, image, grid: Grid) -> np.ndarray:
    return ee.data.computePixels(
        {"expression": image, "fileFormat": "NUMPY_NDARRAY", "grid": grid.to_pixel_grid()}
    )


# The array's own grid, shifted 4 pixels west and 3 north: a margin outside it is masked.
GRID = Grid(
    "EPSG:4326", Affine(SCALE, 0, ORIGIN[0] - 4 * SCALE, 0, -SCALE, ORIGIN[1] + 0.03), 36, 26
)


def on_grid(plane: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`plane` placed on GRID (4 columns, 3 rows of margin) and its validity."""
    out = np.zeros((GRID.height, GRID.width), plane.dtype)
    valid = np.zeros(out.shape, bool)
    out[3 : 3 + 20, 4 : 4 + 30] = plane
    valid[3 : 3 + 20, 4 : 4 + 30] = plane != FILL
    return out, valid


def test_image_load_zarr_v2_array_slices_planes_into_bands(ee_api, server) -> None:
    ee = ee_api
    data = values()
    path = write_array(server.area, "cube", data, DIMS)
    image = ee.Image.loadZarrV2Array(str(path / ".zarray"), proj(ee), [1, -2], [3, None])
    info = image.getInfo()
    # time 1, 2 x level 1, 2: four planes in row-major order
    assert [b["id"] for b in info["bands"]] == ["B0", "B1", "B2", "B3"]
    assert info["bands"][0]["dimensions"] == [30, 20]
    assert info["bands"][0]["data_type"]["min"] == -32768
    arr = compute(ee, image.addBands(image.mask().select(0).rename("m")), GRID)
    planes = [(1, 1), (1, 2), (2, 1), (2, 2)]
    for i, (t, lv) in enumerate(planes):
        expected, valid = on_grid(data[t, lv])
        np.testing.assert_array_equal(arr[f"B{i}"][valid], expected[valid])
    _, valid = on_grid(data[1, 1])
    np.testing.assert_array_equal(arr["m"] == 1, valid)
    # relative to the data dir; the directory instead of its .zarray; whole-array statistics
    whole = ee.Image.loadZarrV2Array(
        f"projects/{server.project}/zarr/cube", proj(ee), [-1, 0], [None, 1]
    )
    stats = whole.reduceRegion(
        ee.Reducer.mean().combine(ee.Reducer.count(), sharedInputs=True),
        ee.Geometry.Rectangle([10.0, 45.8, 10.3, 46.0], "EPSG:4326", False),
        crs="EPSG:4326",
        crsTransform=[SCALE, 0, ORIGIN[0], 0, -SCALE, ORIGIN[1]],
    ).getInfo()
    plane = data[3, 0].astype(float)
    assert stats["B0_count"] == int((plane != FILL).sum())
    assert stats["B0_mean"] == pytest.approx(plane[plane != FILL].mean(), rel=1e-12)


def test_image_collection_load_zarr_v2_array_slices_along_an_axis(ee_api, server) -> None:
    ee = ee_api
    data = values()
    path = write_array(server.area, "cube_c", data, DIMS)
    coll = ee.ImageCollection.loadZarrV2Array(str(path), proj(ee), 1, [1, None], [3, -1])
    info = coll.getInfo()
    # level 0 and 1 (ends -1 drops the last), each with time 1 and 2 as bands
    assert [f["properties"]["system:index"] for f in info["features"]] == ["0", "1"]
    assert [b["id"] for b in info["features"][0]["bands"]] == ["B0", "B1"]
    arr = compute(ee, coll.toBands(), GRID)
    for level in (0, 1):
        for band, t in enumerate((1, 2)):
            expected, valid = on_grid(data[t, level])
            got = arr[f"{level}_B{band}"]
            np.testing.assert_array_equal(got[valid], expected[valid])
    default_axis = ee.ImageCollection.loadZarrV2Array(str(path), proj(ee))
    assert default_axis.size().getInfo() == 4
    assert ee.Image(default_axis.first()).bandNames().size().getInfo() == 3


def test_zarr_v2_bad_arguments_are_clean_errors(ee_api, server) -> None:
    ee = ee_api
    data = values()
    path = write_array(server.area, "cube_e", data, DIMS)
    flat = write_array(server.area, "flat", data[0, 0], ["lat", "lon"])
    unnamed = write_array(server.area, "unnamed", data[0, 0], None)
    v3 = server.area / "zarr" / "v3"
    zarr.create_array(store=str(v3), shape=(4, 4), dtype="u1", zarr_format=3, overwrite=True)
    cases = [
        (ee.Image.loadZarrV2Array("/etc/passwd", proj(ee)), "outside the allowed roots"),
        (ee.Image.loadZarrV2Array("../x/.zarray", proj(ee)), "'..' is not allowed"),
        (ee.Image.loadZarrV2Array(str(unnamed), proj(ee)), "_ARRAY_DIMENSIONS"),
        (ee.Image.loadZarrV2Array(str(path), proj(ee), [0]), "one entry per non-spatial"),
        (ee.Image.loadZarrV2Array(str(path), proj(ee), [3, 0], [2, None]), "cannot be sliced"),
        (ee.ImageCollection.loadZarrV2Array(str(path), proj(ee), 2), "axis must be in"),
        (ee.ImageCollection.loadZarrV2Array(str(flat), proj(ee)), "no non-spatial dimension"),
        (ee.Image.loadZarrV2Array(str(server.area), proj(ee)), "not a Zarr v2 array"),
        (ee.Image.loadZarrV2Array(str(v3), proj(ee)), "only Zarr v2 is supported"),
    ]
    for expression, message in cases:
        with pytest.raises(ee.EEException, match=message):
            expression.getInfo()


def test_zarr_v2_outside_the_roots_is_http_400(ee_api, server, authed_session) -> None:
    ee = ee_api
    expression = ee.Image.loadZarrV2Array("/etc/.zarray", proj(ee)).bandNames()
    serializer = ee.serializer.Serializer(for_cloud_api=True)
    response = authed_session.post(
        f"{server.base_url}/v1/projects/{server.project}/value:compute",
        json={"expression": serializer._encode(expression)},
    )
    assert response.status_code == 400, response.text
    assert "outside the allowed roots" in response.json()["error"]["message"]


def test_zarr_v2_link_out_of_the_roots_is_refused(ee_api, server, tmp_path) -> None:
    """A chunk file replaced by a symbolic link to a file outside the data roots is refused
    before zarr opens anything (zarr's store would follow the link)."""
    ee = ee_api
    data = values()[0, 0]
    path = write_array(server.area, "linked", data, ["lat", "lon"])
    assert ee.Image.loadZarrV2Array(str(path), proj(ee)).bandNames().getInfo() == ["B0"]
    outside = tmp_path / "secret-chunk"
    chunk = path / "0.0"
    outside.write_bytes(chunk.read_bytes())
    chunk.unlink()
    chunk.symlink_to(outside)
    with pytest.raises(ee.EEException, match=r"contains a link \(0\.0\) that leads outside"):
        ee.Image.loadZarrV2Array(str(path), proj(ee)).bandNames().getInfo()
