"""Conformance: non-pixel facts of the Image and ImageCollection apidocs samples, through the
stock client.

Rows come from google/earthengine-community samples (python/apidocs/<file>.py or
javascript/apidocs/<file>.js, named per row): band names, pixel types, projections, properties,
documented by the samples in their comments or text. Most Image samples read catalog images
(Sentinel-2, SRTM, NASADEM ...); for those, only facts that do not depend on the data are used,
on constant images standing in for the catalog image (remap, toBands, clipToBoundsAndScale).
The array-pixel samples are in test_e2e_conformance_image_arrays.py.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

IDENTITY = [1, 0, 0, 0, 1, 0]


def _band(info: dict[str, Any]) -> tuple[str, str, str, list[float]]:
    """A band as the Code Editor prints it: name, precision, crs, transform. The sample's range
    (`int ∈ [1, 1]`) is not compared: openee types a constant by its storage type (uint8 is
    [0, 255]), a documented difference (README, "Differences from Earth Engine")."""
    return (info["id"], info["data_type"]["precision"], info["crs"], info["crs_transform"])


def test_constant_images(ee_api) -> None:
    """ee-image-constant.js: every band printed as `"name", type ∈ [v, v], EPSG:4326` with the
    identity crs_transform."""
    ee = ee_api
    got = ee.List(
        [
            ee.Image.constant(1),
            ee.Image(2),
            ee.Image(math.pi),
            ee.Image.constant([-1.2, 4]),
            ee.Image([0xFF, 0x88, 0x00]),
        ]
    ).getInfo()
    bands = [[_band(b) for b in image["bands"]] for image in got]
    e = "EPSG:4326"
    assert bands == [
        [("constant", "int", e, IDENTITY)],
        [("constant", "int", e, IDENTITY)],
        [("constant", "double", e, IDENTITY)],
        [("constant_0", "double", e, IDENTITY), ("constant_1", "int", e, IDENTITY)],
        [
            ("constant", "int", e, IDENTITY),
            ("constant_1", "int", e, IDENTITY),
            ("constant_2", "int", e, IDENTITY),
        ],
    ]


def _rows(ee: Any) -> list[tuple[str, Any, Any]]:
    """(sample file, computed value, documented value)."""
    here = ee.Geometry.Point(0, 0)

    def at(image: Any, band: str = "constant") -> Any:
        return image.sample(here, 1).first().get(band)

    not_zeros = ee.Image(3)
    col = (
        ee.ImageCollection([])
        .set(
            {"project_name": "biomass_tracking", "project_id": 3, "plot_ids": ee.Array([7, 11, 20])}
        )
        .set("project_year", 2018, "rgb_vis", "false_color")
    )
    land_cover = ee.Image.constant(10).rename("Map").addBands(ee.Image(5).rename("other"))
    remapped = land_cover.set("source", "worldcover").remap(
        [10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 100],
        [1, 2, 2, 2, 3, 2, 4, 5, 6, 6, 2],
        0,
        "Map",
    )
    scenes = ee.ImageCollection(
        [
            ee.Image([1, 2]).rename(["B4", "B5"]).set("DATE_ACQUIRED", "2020-07-01"),
            ee.Image([3, 4]).rename(["B4", "B5"]).set("DATE_ACQUIRED", "2020-07-17"),
        ]
    )
    dem = ee.Image.constant(100).rename("elevation").set("title", "dem")
    clipped = dem.clipToBoundsAndScale(
        geometry=ee.Geometry.BBox(-123.55, 46.61, -122.57, 46.98), width=20, height=10
    )
    return [
        # ee_image_not.py: "Pixels are not zeros, return zeros", "Pixels are zeros, return ones".
        ("ee_image_not.py", at(not_zeros), 3),
        ("ee_image_not.py", at(not_zeros.Not()), 0),
        ("ee_image_not.py", at(not_zeros.Not().Not()), 1),
        # ee-image-pixelarea.js: "The default projection is WGS84 with 1-degree scale."
        ("ee-image-pixelarea.js", ee.Image.pixelArea().projection().crs(), "EPSG:4326"),
        (
            "ee-image-pixelarea.js",
            ee.Image.pixelArea().projection().nominalScale(),
            111319.49079327357,
        ),
        ("ee_image_pixellonlat.py", ee.Image.pixelLonLat().bandNames(), ["longitude", "latitude"]),
        # ee_imagecollection_{set,get,getnumber,getstring,todictionary}.py
        ("ee_imagecollection_get.py", col.get("project_id"), 3),
        ("ee_imagecollection_getstring.py", col.getString("project_name"), "biomass_tracking"),
        ("ee_imagecollection_getnumber.py", col.getNumber("project_year"), 2018),
        ("ee_imagecollection_getarray.py", col.getArray("plot_ids"), [7, 11, 20]),
        (
            "ee_imagecollection_todictionary.py",
            col.toDictionary().keys(),
            ["plot_ids", "project_id", "project_name", "project_year", "rgb_vis"],
        ),
        # ee-image-remap.js: "If the image is multi-band, only the remapped band will be
        # returned. The returned band name is "remapped". Input image properties are retained".
        ("ee-image-remap.js", remapped.bandNames(), ["remapped"]),
        ("ee-image-remap.js", remapped.get("source"), "worldcover"),
        ("ee-image-remap.js", at(remapped, "remapped"), 1),
        # ee-imagecollection-tobands.js: "image ID ('system:index') is prepended to band names";
        # "Band order is determined by collection order".
        (
            "ee-imagecollection-tobands.js",
            scenes.toBands().bandNames(),
            ["0_B4", "0_B5", "1_B4", "1_B5"],
        ),
        (
            "ee-imagecollection-tobands.js",
            scenes.sort("DATE_ACQUIRED", False).toBands().bandNames(),
            ["1_B4", "1_B5", "0_B4", "0_B5"],
        ),
        # ee-image-cliptoboundsandscale.js: "Clipped image retains metadata and band names".
        ("ee-image-cliptoboundsandscale.js", clipped.bandNames(), ["elevation"]),
        ("ee-image-cliptoboundsandscale.js", clipped.get("title"), "dem"),
    ]


def test_image_samples(ee_api) -> None:
    ee = ee_api
    rows = _rows(ee)
    got = ee.List([value for _, value, _ in rows]).getInfo()
    mismatches = [
        (sample, value, want)
        for (sample, _, want), value in zip(rows, got, strict=True)
        if not (value == pytest.approx(want) if isinstance(want, float) else value == want)
    ]
    assert not mismatches


def test_reduce_region_output_names(ee_api) -> None:
    """ee-image-reduceregion.js / ee-image-reduceregions.js: "keys are band names" for one
    reducer; with mean combined with stdDev (sharedInputs) they are "the concatenation of the band
    names and statistic names, separated by an underscore"; reduceRegions returns "the input
    feature collection ... with new properties appended". Constant bands stand in for the
    sample's Landsat bands, so the statistics are the constants (and 0 deviation)."""
    ee = ee_api
    names = ["SR_B6", "SR_B5", "SR_B3"]
    img = ee.Image([1, 2, 3]).rename(names)
    region = ee.Geometry.BBox(-122.1, 37.2, -122.09, 37.21)
    combined = ee.Reducer.mean().combine(reducer2=ee.Reducer.stdDev(), sharedInputs=True)
    regions = ee.FeatureCollection([ee.Feature(region, {"us_l4name": "Santa Cruz Mountains"})])
    got = ee.List(
        [
            img.reduceRegion(
                reducer=ee.Reducer.median(), geometry=region, scale=30, crs="EPSG:3310"
            ),
            img.reduceRegion(reducer=combined, geometry=region, scale=30, crs="EPSG:3310"),
            ee.Feature(
                img.reduceRegions(
                    collection=regions, reducer=ee.Reducer.median(), scale=30, crs="EPSG:3310"
                ).first()
            ).toDictionary(),
            ee.Feature(
                img.reduceRegions(
                    collection=regions, reducer=combined, scale=30, crs="EPSG:3310"
                ).first()
            ).toDictionary(),
        ]
    ).getInfo()
    assert got[0] == {"SR_B6": 1, "SR_B5": 2, "SR_B3": 3}
    assert got[1] == pytest.approx(
        {
            f"{b}_{s}": (v if s == "mean" else 0)
            for b, v in zip(names, [1, 2, 3], strict=True)
            for s in ("mean", "stdDev")
        }
    )
    assert got[2] == {"us_l4name": "Santa Cruz Mountains", "SR_B6": 1, "SR_B5": 2, "SR_B3": 3}
    assert set(got[3]) == {"us_l4name"} | {f"{b}_{s}" for b in names for s in ("mean", "stdDev")}


# The bands of the Sentinel-2 SR image of ee_image_select.py, in order.
S2_BANDS = [
    "B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8", "B8A", "B9", "B11", "B12", "AOT", "WVP",
    "SCL", "TCI_R", "TCI_G", "TCI_B", "MSK_CLDPRB", "MSK_SNWPRB", "QA10", "QA20", "QA60",
]  # fmt: skip


def test_select_and_rename(ee_api) -> None:
    """ee_image_select.py and ee_image_rename.py on a constant image with the Sentinel-2 SR band
    names: selectors by name, index, list, argument series, mixed, with new names, and regular
    expressions matching whole band names."""
    ee = ee_api
    img = ee.Image.constant(list(range(len(S2_BANDS)))).rename(S2_BANDS)
    b_bands = [b for b in S2_BANDS if b.startswith("B")]
    cases = [
        (img.select("B11"), ["B11"]),
        (img.select(10), ["B11"]),
        (img.select(["B11", "B8", "B3"]), ["B11", "B8", "B3"]),
        (img.select("B11", "B8", "B3"), ["B11", "B8", "B3"]),
        (img.select(10, "B8", 2), ["B11", "B8", "B3"]),
        (img.select(["B11", "B8", "B3"], ["SWIR1", "NIR", "Green"]), ["SWIR1", "NIR", "Green"]),
        (img.select("QA.."), ["QA10", "QA20", "QA60"]),
        (img.select("B.*"), b_bands),
        (img.select("B..?"), b_bands),
        (img.select("B[6-8]"), ["B6", "B7", "B8"]),
        (img.select("B[1-9][1-2]"), ["B11", "B12"]),
        (img.select("B.*|QA.*"), [*b_bands, "QA10", "QA20", "QA60"]),
        (
            img.select(["B11", "B8", "B3"]).rename(["SWIR1", "NIR", "GREEN"]),
            ["SWIR1", "NIR", "GREEN"],
        ),
        (
            img.select(["B11", "B8", "B3"]).rename("swir1", "nir", "green"),
            ["swir1", "nir", "green"],
        ),
    ]
    got = ee.List([image.bandNames() for image, _ in cases]).getInfo()
    assert got == [want for _, want in cases]


def test_expression_forms(ee_api) -> None:
    """ee_image_expression.py: NDVI by band index, by band name, by named variables and by dot
    notation give the same image; 'c = sqrt(pow(a, 2) + pow(b, 2))' names its band 'c'.
    Constants stand in for the Landsat bands (SR_B4 = 0.1, SR_B5 = 0.4: NDVI 0.6)."""
    ee = ee_api
    img = ee.Image.constant([0.05, 0.2, 0.3, 0.1, 0.4]).rename(
        ["SR_B1", "SR_B2", "SR_B3", "SR_B4", "SR_B5"]
    )
    forms = [
        img.expression("(b(4) - b(3)) / (b(4) + b(3))"),
        img.expression('(b("SR_B5") - b("SR_B4")) / (b("SR_B5") + b("SR_B4"))'),
        ee.Image().expression(
            expression="(NIR - Red) / (NIR + Red)",
            opt_map={"NIR": img.select("SR_B5"), "Red": img.select("SR_B4")},
        ),
        ee.Image().expression(
            expression="(ls8.SR_B5 - ls8.SR_B4) / (ls8.SR_B5 + ls8.SR_B4)", opt_map={"ls8": img}
        ),
    ]
    hypot = ee.Image().expression(
        expression="c = sqrt(pow(a, 2) + pow(b, 2))",
        opt_map={"a": ee.Image(5), "b": img.select("SR_B2")},
    )
    stack = ee.Image.cat([f.rename(f"ndvi{i}") for i, f in enumerate(forms)]).addBands(hypot)
    got = stack.reduceRegion(ee.Reducer.first(), ee.Geometry.Point(0, 0), 1000).getInfo()
    assert hypot.bandNames().getInfo() == ["c"]
    for i in range(4):
        assert got[f"ndvi{i}"] == pytest.approx(0.6, abs=1e-12)
    assert got["c"] == pytest.approx(math.hypot(5, 0.2), abs=1e-12)


def test_collection_mode_count_mosaic(ee_api) -> None:
    """ee_imagecollection_mean.py (and _mode, _count, _mosaic): "If multiple mode values occur,
    the minimum mode value is returned"; count is "the frequency of valid observations" and
    "pixels with no valid observations are masked out"; mosaic's "priority is last to first" and
    masked pixels "are filled by preceding valid pixels". Constant images stand in for
    Sentinel-2."""
    ee = ee_api

    def img(v: int, valid: bool = True) -> Any:
        image = ee.Image(v).rename("b")
        return image if valid else image.updateMask(0)

    tied = ee.ImageCollection([img(3), img(1), img(3), img(1), img(7, valid=False)])
    stack = ee.Image.cat(
        [
            tied.mode().rename("mode"),
            tied.count().rename("count"),
            ee.ImageCollection([img(1, False), img(2, False)]).count().rename("none"),
            ee.ImageCollection([img(1), img(2)]).mosaic().rename("top"),
            ee.ImageCollection([img(1), img(2, valid=False)]).mosaic().rename("filled"),
        ]
    )
    got = ee.List(
        [
            tied.mode().bandNames(),
            stack.reduceRegion(ee.Reducer.first(), ee.Geometry.Point(0, 0), 1000),
        ]
    ).getInfo()
    assert got[0] == ["b"]
    assert got[1] == {"mode": 1, "count": 4, "none": None, "top": 2, "filled": 1}


def test_sample_geometries_are_pixel_centres(ee_api) -> None:
    """ee-image-sample.js: with geometries=true "each feature has a Point geometry at the center
    of the image pixel" and a property per band, and without a scale "there is a feature for
    every pixel". pixelLonLat, whose values are the pixel centres, stands in for SRTM; the
    sample's planar region, sampled on a 0.001 degree grid."""
    ee = ee_api
    region = ee.Geometry.Polygon(
        [[[-110.006, 40.002], [-110.006, 39.999], [-109.995, 39.999], [-109.995, 40.002]]],
        None,
        False,
    )
    image = ee.Image.pixelLonLat().reproject(ee.Projection("EPSG:4326").scale(0.001, 0.001))
    samples = image.sample(region=region, geometries=True).getInfo()["features"]
    # 11 x 3 cells of 0.001 degrees have their centre inside the region.
    assert len(samples) == 33
    for f in samples:
        x, y = f["geometry"]["coordinates"]
        assert f["geometry"]["type"] == "Point"
        assert set(f["properties"]) == {"longitude", "latitude"}
        assert (x, y) == pytest.approx(
            (f["properties"]["longitude"], f["properties"]["latitude"]), abs=1e-9
        )
        assert round((x + 0.0005) / 0.001, 6).is_integer()
