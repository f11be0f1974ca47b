"""The Join family through the stock client: simple, inverted, inner, saveFirst, saveAll,
saveBest and Join.apply, on feature literals and on the demo Sentinel-2 scenes. Oracles: Python
loops over the same properties, pyproj geodesic distances, the demo catalog's item list and
rasterio reads of the band files."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pyproj
import pytest
import rasterio
from oracle import load_items
from shapely.geometry import box

pytestmark = pytest.mark.e2e

COLLECTION = "COPERNICUS/S2_SR_HARMONIZED"
TILE = "33TWM"
# Rows 520-522, columns 170-173 of the native 120 m grid of tile 33TWM (a 3 x 4 pixel block).
ROW0, COL0 = 520, 170
BLOCK = box(499980 + 120 * COL0 + 30, 5200020 - 120 * (ROW0 + 3) + 30,
            499980 + 120 * (COL0 + 4) - 30, 5200020 - 120 * ROW0 - 30)  # fmt: skip
DAY_MS = 86_400_000

PRIMARY = [("a", 1), ("b", 2), ("c", 2), ("d", 3), ("e", 5)]
SECONDARY = [("w", 2), ("x", 3), ("y", 3), ("z", 4)]


def _features(ee, rows, extra=None):
    return ee.FeatureCollection(
        [ee.Feature(None, {"name": n, "key": k, **(extra(i) if extra else {})})
         for i, (n, k) in enumerate(rows)]
    )  # fmt: skip


def _on_key(ee):
    return ee.Filter.equals(leftField="key", rightField="key")


def test_simple_and_inverted_partition_the_primary(ee_api) -> None:
    ee = ee_api
    primary, secondary = _features(ee, PRIMARY), _features(ee, SECONDARY)
    got = ee.Dictionary(
        {
            "simple": ee.Join.simple()
            .apply(primary, secondary, _on_key(ee))
            .aggregate_array("name"),
            "inverted": ee.Join.inverted()
            .apply(primary, secondary, _on_key(ee))
            .aggregate_array("name"),
        }
    ).getInfo()
    keys = {k for _, k in SECONDARY}
    assert got["simple"] == [n for n, k in PRIMARY if k in keys]
    assert got["inverted"] == [n for n, k in PRIMARY if k not in keys]
    assert sorted(got["simple"] + got["inverted"]) == sorted(n for n, _ in PRIMARY)


def test_inner_join_pairs(ee_api) -> None:
    ee = ee_api
    primary, secondary = _features(ee, PRIMARY), _features(ee, SECONDARY)
    joined = ee.Join.inner("left", "right").apply(primary, secondary, _on_key(ee))
    pairs = joined.map(
        lambda f: f.set(
            "pair",
            [ee.Feature(f.get("left")).get("name"), ee.Feature(f.get("right")).get("name")],
        )
    ).aggregate_array("pair")
    want = [[p, s] for p, pk in PRIMARY for s, sk in SECONDARY if pk == sk]
    assert pairs.getInfo() == want
    # The default keys are 'primary' and 'secondary'.
    first = ee.Join.inner().apply(primary, secondary, _on_key(ee)).first().getInfo()
    assert first["properties"]["primary"]["properties"]["name"] == want[0][0]
    assert first["properties"]["secondary"]["properties"]["name"] == want[0][1]


def test_save_all_ordering_and_outer(ee_api) -> None:
    ee = ee_api
    primary = _features(ee, PRIMARY)
    ranks = [7, 1, 4, 9]
    secondary = _features(ee, [("w", 3), ("x", 3), ("y", 3), ("z", 2)],
                          lambda i: {"rank": ranks[i]})  # fmt: skip
    rows = [("w", 3, 7), ("x", 3, 1), ("y", 3, 4), ("z", 2, 9)]
    for ascending in (True, False):
        join = ee.Join.saveAll("matches", ordering="rank", ascending=ascending, outer=True)
        joined = join.apply(primary, secondary, _on_key(ee))
        got = joined.map(
            lambda f: f.set(
                "names", ee.List(f.get("matches")).map(lambda m: ee.Feature(m).get("name"))
            )
        ).aggregate_array("names")
        want = [
            [n for n, k, _ in sorted(rows, key=lambda r: r[2], reverse=not ascending) if k == pk]
            for _, pk in PRIMARY
        ]
        assert got.getInfo() == want  # outer: unmatched primaries kept with an empty list
    inner_only = ee.Join.saveAll("matches").apply(primary, secondary, _on_key(ee))
    assert inner_only.aggregate_array("name").getInfo() == [n for n, k in PRIMARY if k in {2, 3}]


def test_save_first_ordering(ee_api) -> None:
    ee = ee_api
    primary = _features(ee, PRIMARY)
    ranks = [7, 1, 4, 9]
    secondary = _features(ee, [("w", 3), ("x", 3), ("y", 3), ("z", 2)],
                          lambda i: {"rank": ranks[i]})  # fmt: skip
    joined = ee.Join.saveFirst("best", ordering="rank", ascending=False).apply(
        primary, secondary, _on_key(ee)
    )
    got = joined.map(lambda f: f.set("m", ee.Feature(f.get("best")).get("name")))
    # key 3: w (7), x (1), y (4) -> the highest rank is w; key 2: only z.
    assert got.aggregate_array("m").getInfo() == ["z", "z", "w"]
    assert got.aggregate_array("name").getInfo() == ["b", "c", "d"]


POINTS_P = [(15.00, 46.00), (15.10, 46.05), (16.00, 45.00)]
POINTS_S = [(15.001, 46.001), (15.02, 46.00), (15.12, 46.06), (15.09, 46.04)]


def test_save_best_within_distance(ee_api) -> None:
    """The nearest secondary point within 5 km; its geodesic distance under measureKey; outer
    keeps the primary point that has none."""
    ee = ee_api
    primary = ee.FeatureCollection(
        [ee.Feature(ee.Geometry.Point(p), {"i": i}) for i, p in enumerate(POINTS_P)]
    )
    secondary = ee.FeatureCollection(
        [ee.Feature(ee.Geometry.Point(p), {"j": j}) for j, p in enumerate(POINTS_S)]
    )
    condition = ee.Filter.withinDistance(distance=5000, leftField=".geo", rightField=".geo")
    joined = ee.Join.saveBest("near", "dist", outer=True).apply(primary, secondary, condition)
    info = joined.getInfo()["features"]
    geod = pyproj.Geod(ellps="WGS84")
    assert [f["properties"]["i"] for f in info] == [0, 1, 2]
    for f, p in zip(info, POINTS_P, strict=True):
        dists = [geod.inv(p[0], p[1], s[0], s[1])[2] for s in POINTS_S]
        near = [(d, j) for j, d in enumerate(dists) if d <= 5000]
        if not near:
            assert "near" not in f["properties"]
            continue
        d, j = min(near)
        match = f["properties"]["near"]["properties"]
        assert match["j"] == j
        assert match["dist"] == pytest.approx(d, rel=1e-6)
    # Without outer the far point is dropped.
    inner = ee.Join.saveBest("near", "dist").apply(primary, secondary, condition)
    assert inner.aggregate_array("i").getInfo() == [0, 1]


def test_max_difference_on_dates(ee_api) -> None:
    ee = ee_api
    start = datetime(2023, 8, 1, tzinfo=UTC)
    p_days, s_days = [0, 3, 10], [1, 2, 4, 20]

    def dated(days, name):
        return ee.FeatureCollection(
            [ee.Feature(None, {name: d, "system:time_start": ee.Date(
                int((start + timedelta(days=d)).timestamp() * 1000))}) for d in days]
        )  # fmt: skip

    condition = ee.Filter.maxDifference(
        difference=2.5 * DAY_MS, leftField="system:time_start", rightField="system:time_start"
    )
    # Ordered by the measure itself, largest first.
    joined = ee.Join.saveAll("near", ordering="diff", ascending=False, measureKey="diff").apply(
        dated(p_days, "p"), dated(s_days, "s"), condition
    )
    got = joined.map(
        lambda f: f.set(
            "pairs",
            ee.List(f.get("near")).map(
                lambda m: [ee.Feature(m).get("s"), ee.Feature(m).get("diff")]
            ),
        )
    )
    want = [
        sorted(
            ([s, abs(s - p) * DAY_MS] for s in s_days if abs(s - p) <= 2.5),
            key=lambda pair: -pair[1],
        )
        for p in p_days
    ]
    assert want[1] == [[1, 2 * DAY_MS], [2, DAY_MS], [4, DAY_MS]]  # the ordering matters here
    want_p = [p for p, w in zip(p_days, want, strict=True) if w]
    assert got.aggregate_array("p").getInfo() == want_p
    assert got.aggregate_array("pairs").getInfo() == [w for w in want if w]


# -- the Sentinel-2 patterns -------------------------------------------------------------------


def _scenes(tile):
    return sorted((i for i in load_items() if tile in i.id), key=lambda i: i.time_start_ms)


def _tile(ee, tile):
    return (
        ee.ImageCollection(COLLECTION)
        .filter(ee.Filter.stringContains("system:index", tile))
        .sort("system:time_start")
    )


def _block(item, band: str) -> np.ndarray:
    with rasterio.open(item.band_path(band)) as src:
        return src.read(1, window=((ROW0, ROW0 + 3), (COL0, COL0 + 4)))


def test_save_first_s2_cloud_probability_pattern(ee_api) -> None:
    """The s2cloudless tutorial's join: each image gets its partner of the same system:index
    from a second collection, whose band is then added in a map and composited."""
    ee = ee_api
    start, end = datetime(2023, 8, 12, tzinfo=UTC), datetime(2023, 8, 19, tzinfo=UTC)
    s2_sr = _tile(ee, TILE).select("B4")
    s2_clouds = _tile(ee, TILE).filterDate(start.isoformat(), end.isoformat())
    s2_clouds = s2_clouds.select(["B8"], ["probability"])
    joined = ee.ImageCollection(
        ee.Join.saveFirst("s2cloudless").apply(
            primary=s2_sr,
            secondary=s2_clouds,
            condition=ee.Filter.equals(leftField="system:index", rightField="system:index"),
        )
    )

    def add_probability(img):
        cloud = ee.Image(img.get("s2cloudless"))
        return img.addBands(cloud.select("probability")).set(
            "cloud_index", cloud.get("system:index")
        )

    with_clouds = joined.map(add_probability)
    items = [i for i in _scenes(TILE) if start <= i.datetime < end]
    assert len(items) >= 2
    region = ee.Geometry.Polygon([list(map(list, BLOCK.exterior.coords))], "EPSG:32633", False)
    got = ee.Dictionary(
        {
            "ids": with_clouds.aggregate_array("system:index"),
            "cloud_ids": with_clouds.aggregate_array("cloud_index"),
            "first": with_clouds.first().reduceRegion(ee.Reducer.toList(), region, 120),
            "max": with_clouds.select("probability")
            .max()
            .reduceRegion(ee.Reducer.max(), region, 120),
        }
    ).getInfo()
    assert got["ids"] == [i.id for i in items]
    saved = joined.first().get("s2cloudless").getInfo()
    assert saved["type"] == "Image" and saved["properties"]["system:index"] == items[0].id
    assert got["cloud_ids"] == got["ids"]
    # The first joined image holds its own B4 and the B8 of the same scene as 'probability'.
    assert sorted(got["first"]["B4"]) == sorted(_block(items[0], "B4").ravel().tolist())
    assert sorted(got["first"]["probability"]) == sorted(_block(items[0], "B8").ravel().tolist())
    b8 = np.stack([_block(i, "B8") for i in items]).astype(float)
    assert got["max"]["probability"] == np.where(b8 > 0, b8, -np.inf).max()


def test_save_best_nearest_date_between_tiles(ee_api) -> None:
    """Each 33TWM scene's closest-in-time 33TWL scene (within a day), the time difference under
    measureKey, as in the guide's Landsat/GRIDMET example."""
    ee = ee_api
    condition = ee.Filter.maxDifference(
        difference=DAY_MS, leftField="system:time_start", rightField="system:time_start"
    )
    joined = ee.Join.saveBest("partner", "timeDiff").apply(
        _tile(ee, TILE), _tile(ee, "33TWL"), condition
    )
    got = joined.map(
        lambda img: img.set(
            "partner_id", ee.Image(img.get("partner")).get("system:index"),
            "diff", ee.Image(img.get("partner")).get("timeDiff"),
        )
    )  # fmt: skip
    info = ee.Dictionary(
        {"ids": got.aggregate_array("partner_id"), "diffs": got.aggregate_array("diff")}
    ).getInfo()
    want_ids, want_diffs = [], []
    others = _scenes("33TWL")
    for item in _scenes(TILE):
        diffs = [(abs(o.time_start_ms - item.time_start_ms), o.id) for o in others]
        best = min(d for d in diffs if d[0] <= DAY_MS)
        want_diffs.append(best[0])
        want_ids.append(best[1])
    assert info["ids"] == want_ids
    assert info["diffs"] == want_diffs


# -- bad input -----------------------------------------------------------------------------------


def _compute(server, access_token, value, ee):
    import requests

    expression = ee.serializer.encode(value, for_cloud_api=True)
    return requests.post(
        f"{server.base_url}/v1/projects/{server.project}/value:compute",
        json={"expression": expression},
        headers={"Authorization": f"Bearer {access_token}"},
        timeout=60,
    )


BAD_CONDITIONS = [
    ("not a filter", lambda ee: ee.Number(1), "Expected type: Filter"),
    ("one-sided filter", lambda ee: ee.Filter.eq("key", 2), "leftField and rightField"),
    ("one-sided in and", lambda ee: ee.Filter.And(
        ee.Filter.equals(leftField="key", rightField="key"), ee.Filter.gt("key", 1)),
     "leftField and rightField"),
]  # fmt: skip


@pytest.mark.parametrize("make,message", [c[1:] for c in BAD_CONDITIONS],
                         ids=[c[0] for c in BAD_CONDITIONS])  # fmt: skip
def test_bad_condition_is_a_clear_400(ee_api, server, access_token, make, message) -> None:
    ee = ee_api
    # Built without the client's argument promotion, which would refuse a non-filter itself.
    arguments = {"join": ee.Join.simple(), "primary": _features(ee, PRIMARY),
                 "secondary": _features(ee, SECONDARY), "condition": make(ee)}  # fmt: skip
    joined = ee.FeatureCollection(ee.ComputedObject(ee.ApiFunction.lookup("Join.apply"), arguments))
    with pytest.raises(ee.EEException, match=message):
        joined.size().getInfo()
    response = _compute(server, access_token, joined.size(), ee)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["status"] == "INVALID_ARGUMENT"


def test_save_best_needs_a_measure(ee_api) -> None:
    ee = ee_api
    joined = ee.Join.saveBest("m", "d").apply(
        _features(ee, PRIMARY), _features(ee, SECONDARY), _on_key(ee)
    )
    with pytest.raises(ee.EEException, match="withinDistance or maxDifference"):
        joined.getInfo()
