"""The store contract: the same tests against SQLite and PostgreSQL (see conftest `store`)."""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest

from openee.catalog.model import (
    FOLDER,
    IMAGE,
    IMAGE_COLLECTION,
    TABLE,
    AssetRecord,
    BandMask,
    BandRecord,
    FeatureRecord,
)
from openee.catalog.service import copy_asset
from openee.catalog.store import CatalogStore, ImageQuery, PropertyTerm
from openee.errors import AlreadyExistsError, AssetNotFoundError, FailedPreconditionError

ROOT = "projects/p/assets"
COLL = f"{ROOT}/coll"
DAY = 86_400_000


def band(name: str = "B1") -> BandRecord:
    return BandRecord(
        id=name,
        path=f"/data/{name}.tif",
        index=1,
        dtype="uint16",
        crs="EPSG:32633",
        transform=(10.0, 0.0, 500000.0, 0.0, -10.0, 5000000.0),
        width=100,
        height=50,
        nodata=0.0,
    )


def box(west: float, south: float, east: float, north: float) -> dict[str, object]:
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


def image(index: str, day: int, lon: float = 0.0, lat: float = 0.0) -> AssetRecord:
    """A 1x1-degree image whose south-west corner is (lon, lat), on day `day` of 1970."""
    return AssetRecord(
        name=f"{COLL}/{index}",
        type=IMAGE,
        properties={"system:index": index, "day": day},
        start_time=day * DAY,
        end_time=day * DAY,
        footprint=box(lon, lat, lon + 1, lat + 1),
        bands=(band("B1"), band("B2")),
    )


def collection() -> AssetRecord:
    return AssetRecord(name=COLL, type=IMAGE_COLLECTION)


def names(records: list[AssetRecord]) -> list[str]:
    return [r.index for r in records]


def test_get_returns_what_was_put(store: CatalogStore) -> None:
    record = replace(image("a", 3), update_time="2020-01-01T00:00:00Z")
    store.put_many([collection(), record])
    assert store.get(record.name) == record


def test_get_missing_is_none(store: CatalogStore) -> None:
    assert store.get(f"{ROOT}/nothing") is None


def test_put_stamps_update_time(store: CatalogStore) -> None:
    store.put(AssetRecord(name=f"{ROOT}/f", type=FOLDER))
    got = store.get(f"{ROOT}/f")
    assert got is not None and got.update_time is not None and got.update_time.endswith("Z")


@pytest.mark.parametrize("page_size", [1, 7, 100, 250])
def test_children_pages_return_every_asset_once(store: CatalogStore, page_size: int) -> None:
    records = [image(f"img_{i:03d}", i % 17) for i in range(250)]
    # Names that sort differently under a locale collation than bytewise.
    records += [image(n, 1) for n in ("Zed", "a_b", "a-b", "a.b", "aB")]
    store.put_many([collection(), *records])
    offset, seen = 0, []
    while True:
        page = store.children(COLL, offset, page_size)
        seen.extend(names(page))
        if len(page) < page_size:
            break
        offset += page_size
    assert seen == sorted(r.index for r in records)  # bytewise order, each exactly once


def test_children_pages_by_key(store: CatalogStore) -> None:
    records = [image(f"k{i:02d}", i) for i in range(23)]
    store.put_many([collection(), *records])
    after, seen = None, []
    while page := store.children(COLL, 0, 5, after=after):
        seen.extend(names(page))
        after = page[-1].name
    assert seen == [f"k{i:02d}" for i in range(23)]


def test_children_are_direct_only(store: CatalogStore) -> None:
    store.put_many(
        [
            AssetRecord(name=f"{ROOT}/f", type=FOLDER),
            AssetRecord(name=f"{ROOT}/f/g", type=FOLDER),
            AssetRecord(name=f"{ROOT}/f/g/h", type=FOLDER),
            AssetRecord(name=f"{ROOT}/f2", type=FOLDER),
        ]
    )
    assert [r.name for r in store.children(f"{ROOT}/f", 0, 10)] == [f"{ROOT}/f/g"]
    assert [r.name for r in store.children(ROOT, 0, 10)] == [f"{ROOT}/f", f"{ROOT}/f2"]


def test_query_by_time_excludes_end(store: CatalogStore) -> None:
    store.put_many([collection(), *(image(f"d{d}", d) for d in range(10))])
    got = store.query_images(ImageQuery(COLL, start=3 * DAY, end=6 * DAY))
    assert names(got) == ["d3", "d4", "d5"]


def test_query_orders_oldest_first(store: CatalogStore) -> None:
    store.put_many([collection(), image("late", 9), image("early", 1), image("mid", 5)])
    assert names(store.query_images(ImageQuery(COLL))) == ["early", "mid", "late"]


@pytest.mark.parametrize(
    ("bbox", "expected"),
    [
        ((0.5, 0.5, 0.6, 0.6), ["a"]),  # inside a
        ((1.0, 0.0, 1.5, 0.5), ["a", "b"]),  # touches a's east edge, inside b
        ((2.5, 2.5, 3.0, 3.0), []),  # nowhere
        ((-10.0, -10.0, 10.0, 10.0), ["a", "b", "c"]),  # everything
        ((4.5, 4.5, 5.5, 5.5), ["c"]),
    ],
)
def test_query_by_bbox(
    store: CatalogStore, bbox: tuple[float, float, float, float], expected: list[str]
) -> None:
    store.put_many([collection(), image("a", 1, 0, 0), image("b", 2, 1, 0), image("c", 3, 5, 5)])
    assert names(store.query_images(ImageQuery(COLL, bbox=bbox))) == expected


def test_query_by_time_and_bbox(store: CatalogStore) -> None:
    records = [image(f"i{d}", d, lon=float(d % 3), lat=0) for d in range(12)]
    store.put_many([collection(), *records])
    got = store.query_images(
        ImageQuery(COLL, start=2 * DAY, end=10 * DAY, bbox=(0.1, 0.1, 0.2, 0.2))
    )
    assert names(got) == ["i3", "i6", "i9"]


def test_query_only_images_of_the_parent(store: CatalogStore) -> None:
    other = replace(image("x", 1), name=f"{ROOT}/other/x")
    store.put_many([collection(), image("a", 1), other, AssetRecord(f"{COLL}/sub", FOLDER)])
    assert names(store.query_images(ImageQuery(COLL))) == ["a"]


def test_put_replaces_an_asset(store: CatalogStore) -> None:
    store.put_many([collection(), image("a", 1, 0, 0)])
    moved = replace(image("a", 7, 50, 50), bands=(band("X"),), properties={"v": 2})
    store.put(moved)
    got = store.get(moved.name)
    assert got is not None
    assert (got.start_time, got.properties, [b.id for b in got.bands]) == (7 * DAY, {"v": 2}, ["X"])
    assert store.query_images(ImageQuery(COLL, bbox=(0.2, 0.2, 0.3, 0.3))) == []
    assert names(store.query_images(ImageQuery(COLL, bbox=(50.5, 50.5, 50.6, 50.6)))) == ["a"]
    assert len(store.children(COLL, 0, 10)) == 1


def test_put_many_is_all_or_nothing(store: CatalogStore) -> None:
    store.put_many([collection(), image("kept", 1)])
    before = store.get(f"{COLL}/kept")

    class Boom(Exception):
        pass

    class BadRecord(AssetRecord):
        @property
        def parent(self) -> str:
            raise Boom

    batch = [replace(image("kept", 1), properties={"changed": True}), image("new", 2)]
    with pytest.raises(Boom):
        store.put_many([*batch, BadRecord(name=f"{COLL}/bad", type=IMAGE)])
    assert store.get(f"{COLL}/kept") == before
    assert store.get(f"{COLL}/new") is None
    assert names(store.children(COLL, 0, 10)) == ["kept"]


def test_put_many_rolls_back_features_too(store: CatalogStore) -> None:
    table = AssetRecord(name=f"{ROOT}/t", type=TABLE)
    store.put_many([table], {table.name: [FeatureRecord(None, {"n": 1})]})
    before = store.get(table.name)
    with pytest.raises(AssetNotFoundError):
        store.put_many(
            [replace(table, properties={"x": 1})],
            {table.name: [], f"{ROOT}/missing": []},
        )
    assert store.count_features(table.name) == 1
    assert store.get(table.name) == before


def test_delete_one(store: CatalogStore) -> None:
    store.put_many([collection(), image("a", 1), image("b", 2)])
    assert store.delete(f"{COLL}/a") == 1
    assert store.get(f"{COLL}/a") is None
    assert names(store.query_images(ImageQuery(COLL, bbox=(0.1, 0.1, 0.2, 0.2)))) == ["b"]


def test_delete_with_children_needs_recursive(store: CatalogStore) -> None:
    store.put_many([collection(), image("a", 1)])
    with pytest.raises(FailedPreconditionError):
        store.delete(COLL)
    assert store.get(f"{COLL}/a") is not None


def test_delete_recursive_removes_descendants_only(store: CatalogStore) -> None:
    neighbour = AssetRecord(name=f"{ROOT}/coll2", type=FOLDER)  # shares the prefix "coll"
    sibling = AssetRecord(name=f"{ROOT}/coll_x", type=FOLDER)  # '_' is a LIKE wildcard
    deep = AssetRecord(name=f"{COLL}/sub/deeper", type=FOLDER)
    store.put_many([collection(), image("a", 1), neighbour, sibling, deep])
    assert store.delete(COLL, recursive=True) == 3
    assert [r.name for r in store.children(ROOT, 0, 10)] == [neighbour.name, sibling.name]
    assert store.get(deep.name) is None
    assert store.query_images(ImageQuery(COLL)) == []


def test_delete_missing_is_not_found(store: CatalogStore) -> None:
    with pytest.raises(AssetNotFoundError):
        store.delete(f"{ROOT}/nothing")


def test_table_features_round_trip(store: CatalogStore) -> None:
    table = AssetRecord(name=f"{ROOT}/t", type=TABLE, properties={"source": "x"})
    features = [
        FeatureRecord({"type": "Point", "coordinates": [float(i), 0.0]}, {"n": i}, id=str(i))
        for i in range(10)
    ]
    store.put_many([table], {table.name: features})
    assert store.count_features(table.name) == 10
    assert store.features(table.name) == features
    assert store.features(table.name, offset=3, limit=2) == features[3:5]
    assert store.features(table.name, bbox=(2.5, -1, 4.5, 1)) == features[3:5]


def test_replacing_a_table_record_keeps_its_features(store: CatalogStore) -> None:
    table = AssetRecord(name=f"{ROOT}/t", type=TABLE)
    store.put_many([table], {table.name: [FeatureRecord(None, {"n": 1})]})
    store.put(replace(table, properties={"description": "patched"}))
    assert store.count_features(table.name) == 1
    store.put_many([table], {table.name: []})
    assert store.count_features(table.name) == 0


def test_delete_removes_features(store: CatalogStore) -> None:
    table = AssetRecord(name=f"{ROOT}/t", type=TABLE)
    store.put_many([table], {table.name: [FeatureRecord(None, {"n": 1})]})
    store.delete(table.name)
    store.put(table)
    assert store.count_features(table.name) == 0


def test_concurrent_writers_and_readers(store: CatalogStore) -> None:
    store.put(collection())
    errors: list[BaseException] = []
    per_thread, threads = 20, 6

    def write(t: int) -> None:
        try:
            for i in range(per_thread):
                store.put_many([image(f"t{t}_{i:02d}", i), image(f"shared_{i:02d}", t)])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def read() -> None:
        try:
            for _ in range(per_thread):
                for record in store.query_images(ImageQuery(COLL)):
                    assert len(record.bands) == 2  # never a half-written record
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    workers = [threading.Thread(target=write, args=(t,)) for t in range(threads)]
    workers += [threading.Thread(target=read) for _ in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert errors == []
    listed = names(store.children(COLL, 0, 10_000))
    assert len(listed) == len(set(listed)) == threads * per_thread + per_thread


# -- property terms and keyset paging in query_images --------------------------------------------

PROPERTY_VALUES: dict[str, dict[str, object]] = {
    "n0": {"CLOUD": 0, "SENSOR": "OLI", "flag": True, "a.b": 2, "with space": "x"},
    "n1": {"CLOUD": 12.5, "SENSOR": "TM", "flag": False},
    "n2": {"CLOUD": 40, "SENSOR": "ETM+", "flag": 1},
    "n3": {"CLOUD": "40", "SENSOR": "Ölsensor", "flag": "yes"},  # a string where numbers are
    "n4": {"SENSOR": None},  # CLOUD missing, SENSOR null
    "n5": {"CLOUD": 99.9, "SENSOR": "oli", "flag": [1]},
    "n6": {"CLOUD": 12.5, "SENSOR": "TM", "flag": {"a": 1}},
}


def python_compare(actual: object, op: str, value: object) -> bool:
    """The oracle: Python's own operators, with a missing property as None."""
    if op == "in":
        assert isinstance(value, tuple)
        return any(python_compare(actual, "=", v) for v in value)
    if op == "=":
        return actual == value
    if op == "!=":
        return actual != value
    if actual is None:
        return False
    try:
        return bool(
            {
                "<": actual < value,
                "<=": actual <= value,
                ">": actual > value,
                ">=": actual >= value,
            }[  # type: ignore[operator]
                op
            ]
        )
    except TypeError:
        return False


@pytest.mark.parametrize(
    ("name", "op", "value"),
    [
        ("CLOUD", "<", 20),
        ("CLOUD", "<=", 12.5),
        ("CLOUD", ">", 12.5),
        ("CLOUD", ">=", 40.0),
        ("CLOUD", "=", 40),
        ("CLOUD", "!=", 12.5),
        ("CLOUD", "=", "40"),
        ("CLOUD", "in", (0, 99.9, "40")),
        ("SENSOR", "=", "TM"),
        ("SENSOR", "!=", "TM"),
        ("SENSOR", "<", "P"),  # code-point order: lower case and 'Ö' sort after 'P'
        ("SENSOR", ">=", "TM"),
        ("SENSOR", "in", ("OLI", "oli")),
        ("flag", "=", 1),  # true and 1 are equal, as in Python
        ("flag", "=", False),
        ("flag", "<", 1),
        ("flag", "!=", True),
        ("missing", "!=", 3),
        ("missing", "=", 3),
        ("a.b", ">", 1),  # a dot in a name is not a path
        ("with space", "=", "x"),
    ],
)
def test_query_by_property(store: CatalogStore, name: str, op: str, value: object) -> None:
    records = [
        replace(image(index, day), properties=props)
        for day, (index, props) in enumerate(PROPERTY_VALUES.items())
    ]
    store.put_many([collection(), *records])
    term = PropertyTerm.of(name, op, value)
    assert term is not None
    got = names(store.query_images(ImageQuery(COLL, properties=(term,))))
    expected = [
        index
        for index, props in PROPERTY_VALUES.items()
        if python_compare(props.get(name), op, value)
    ]
    assert got == expected


def test_query_by_several_properties_and_time(store: CatalogStore) -> None:
    records = [
        replace(image(f"i{d:02d}", d), properties={"CLOUD": d % 7, "PATH": 190 + d % 3})
        for d in range(30)
    ]
    store.put_many([collection(), *records])
    terms = (PropertyTerm("CLOUD", "<", 3), PropertyTerm("PATH", "in", (190, 192)))
    got = names(store.query_images(ImageQuery(COLL, start=5 * DAY, properties=terms)))
    assert got == [f"i{d:02d}" for d in range(5, 30) if d % 7 < 3 and d % 3 in (0, 2)]


def test_property_terms_refuse_what_stores_cannot_express() -> None:
    assert PropertyTerm.of("system:index", "=", "a") is None
    assert PropertyTerm.of("CLOUD", "=", None) is None
    assert PropertyTerm.of("CLOUD", "<", float("nan")) is None
    assert PropertyTerm.of("CLOUD", "=", [1, 2]) is None
    assert PropertyTerm.of('a"b', "=", 1) is None
    assert PropertyTerm.of("CLOUD", "in", [1, None]) is None
    assert PropertyTerm.of("CLOUD", "=", 2**70) is None
    with pytest.raises(ValueError):
        PropertyTerm("CLOUD", "; DROP TABLE", 1)


def test_query_pages_by_key(store: CatalogStore) -> None:
    undated = [replace(image(f"u{i}", 0), start_time=None) for i in range(3)]
    dated = [image(f"d{d % 5}_{d}", d % 5) for d in range(12)]  # ties on start_time
    store.put_many([collection(), *undated, *dated])
    everything = names(store.query_images(ImageQuery(COLL)))
    assert everything[:3] == ["u0", "u1", "u2"]  # no start time sorts first
    seen: list[str] = []
    after = None
    while True:
        page = store.query_images(ImageQuery(COLL, after=after, limit=4))
        seen.extend(names(page))
        if len(page) < 4:
            break
        after = (page[-1].start_time, page[-1].name)
    assert seen == everything


def test_properties_keep_big_integers(store: CatalogStore) -> None:
    """Exact values come back: integers beyond 64 bits (orjson would make them floats)."""
    props = {"big": 2**70 + 1, "neg": -(2**65), "small": 12, "f": 0.1, "s": "ü"}
    store.put_many([collection(), replace(image("a", 1), properties=props)])
    got = store.get(f"{COLL}/a")
    assert got is not None and got.properties == props
    assert type(got.properties["big"]) is int


def test_stored_json_parses_as_the_standard_library_does() -> None:
    import json
    import math

    from openee.catalog.rows import loads_json

    for text in [
        '{"a": [1, 2.5, "x", null, true]}',
        "[12345678901234567890123]",
        '{"a": {"b": [-98765432109876543210]}}',
        '{"a": 1e20}',
        '"\\u00fc"',
    ]:
        assert loads_json(text) == json.loads(text)
        assert repr(loads_json(text)) == repr(json.loads(text))  # ints stay ints
    assert math.isnan(loads_json('{"a": NaN}')["a"])  # json.dumps writes NaN; orjson refuses it


# -- move -------------------------------------------------------------------------------------


def test_move_renames_a_subtree_with_its_features(store: CatalogStore) -> None:
    table = AssetRecord(f"{COLL}/t", TABLE, properties={"system:index": "t"})
    rows = [FeatureRecord({"type": "Point", "coordinates": [1.0, 2.0]}, {"k": i}) for i in range(3)]
    store.put_many([collection(), image("a", 1), image("b", 2, 5, 5), table], {table.name: rows})
    moved = store.move(COLL, f"{ROOT}/renamed")
    assert moved == 4
    assert store.get(COLL) is None and store.get(f"{COLL}/a") is None
    new = f"{ROOT}/renamed"
    got = store.get(f"{new}/a")
    assert got is not None and got.properties["system:index"] == "a" and got.parent == new
    assert got.bands == image("a", 1).bands
    assert names(store.query_images(ImageQuery(new, bbox=(5.5, 5.5, 5.6, 5.6)))) == ["b"]
    assert store.query_images(ImageQuery(COLL)) == []
    assert store.features(f"{new}/t") == rows
    assert [r.name for r in store.children(ROOT)] == [new]


def test_move_one_image_renames_its_index(store: CatalogStore) -> None:
    store.put_many([collection(), image("a", 1)])
    store.move(f"{COLL}/a", f"{COLL}/z")
    got = store.get(f"{COLL}/z")
    assert got is not None and got.properties["system:index"] == "z" and got.index == "z"


def test_move_onto_an_existing_asset(store: CatalogStore) -> None:
    store.put_many([collection(), image("a", 1), image("b", 2)])
    with pytest.raises(AlreadyExistsError):
        store.move(f"{COLL}/a", f"{COLL}/b")
    assert store.get(f"{COLL}/a") is not None
    store.move(f"{COLL}/a", f"{COLL}/b", replace=True)
    got = store.get(f"{COLL}/b")
    assert store.get(f"{COLL}/a") is None
    assert got is not None and got.start_time == DAY  # a's, not b's
    assert names(store.query_images(ImageQuery(COLL))) == ["b"]
    with pytest.raises(FailedPreconditionError):
        store.move(f"{COLL}/b", COLL, replace=True)  # a collection that holds assets
    with pytest.raises(AssetNotFoundError):
        store.move(f"{COLL}/nope", f"{COLL}/x")


def test_move_is_never_half_done(store: CatalogStore) -> None:
    """A reader sees the collection either at the source or at the destination: never at both
    (as a copy followed by a delete would show) and never at neither."""
    count = 300
    store.put_many([collection(), *(image(f"i{i:03d}", i % 50) for i in range(count))])
    seen: list[list[str]] = []
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            seen.append([r.index for r in store.children(ROOT)])  # one query, one snapshot

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for _ in range(5):
            store.move(COLL, f"{ROOT}/moved")
            store.move(f"{ROOT}/moved", COLL)
    finally:
        stop.set()
        reader.join()
    assert len(seen) > 5
    assert all(names in (["coll"], ["moved"]) for names in seen)
    assert len(store.query_images(ImageQuery(COLL))) == count


def test_band_masks_round_trip(store: CatalogStore) -> None:
    masked = replace(band("B1"), mask=BandMask("/data/mask.tif", 2, "uint8"))
    record = replace(image("a", 1), bands=(masked, band("B2")))
    store.put_many([collection(), record])
    got = store.get(record.name)
    assert got is not None and got.bands == (masked, band("B2"))


def test_assets_using_a_file_finds_bands_masks_and_sources(store: CatalogStore) -> None:
    masked = replace(band("B1"), mask=BandMask("/data/mask.tif", 2, "uint8"))
    table = AssetRecord(name=f"{ROOT}/t", type=TABLE, sources=("/data/t.csv",))
    store.put_many([collection(), replace(image("a", 1), bands=(masked,)), image("b", 2), table])
    assert store.assets_using("/data/B1.tif") == [f"{COLL}/a", f"{COLL}/b"]
    assert store.assets_using("/data/B2.tif") == [f"{COLL}/b"]
    assert store.assets_using("/data/mask.tif") == [f"{COLL}/a"]
    assert store.assets_using("/data/t.csv") == [f"{ROOT}/t"]
    assert store.assets_using("/data/none.tif") == []
    got = store.get(f"{ROOT}/t")
    assert got is not None and got.sources == ("/data/t.csv",)


def test_assets_using_follows_replace_move_and_delete(store: CatalogStore) -> None:
    store.put_many([collection(), image("a", 1)])
    store.put(replace(image("a", 1), bands=(band("B9"),)))
    assert store.assets_using("/data/B1.tif") == []
    assert store.assets_using("/data/B9.tif") == [f"{COLL}/a"]
    store.move(COLL, f"{ROOT}/moved")
    assert store.assets_using("/data/B9.tif") == [f"{ROOT}/moved/a"]
    store.delete(f"{ROOT}/moved", recursive=True)
    assert store.assets_using("/data/B9.tif") == []


def test_the_import_that_wrote_an_asset_is_kept_and_a_copy_has_none(store: CatalogStore) -> None:
    store.put_many([collection(), replace(image("a", 1), operation="OP1")])
    got = store.get(f"{COLL}/a")
    assert got is not None and got.operation == "OP1"
    copy_asset(store, f"{COLL}/a", f"{COLL}/b")
    copied = store.get(f"{COLL}/b")
    assert copied is not None and copied.operation is None
    store.move(f"{COLL}/a", f"{COLL}/c")  # a move is the same asset
    moved = store.get(f"{COLL}/c")
    assert moved is not None and moved.operation == "OP1"
