"""FileAccess (ADR 0034): which confined files one caller may read, with a catalog holding one
private asset of project `a`, and a caller that may read exactly the resources it is given."""

from __future__ import annotations

from pathlib import Path

import pytest

from openee.catalog.access import FileAccess
from openee.catalog.model import IMAGE, TABLE, AssetRecord, BandRecord
from openee.catalog.roots import Roots
from openee.catalog.sqlite import SqliteCatalog
from openee.errors import InvalidArgumentError

MISSING = "no such file, or the caller may not read it"


@pytest.fixture()
def layout(tmp_path: Path) -> dict[str, Path]:
    data, shared, outside = tmp_path / "data", tmp_path / "shared", tmp_path / "outside"
    paths = {
        "a_file": data / "projects/a/up/x.tif",
        "a_backing": data / "projects/a/up/backing.tif",
        "a_csv": data / "projects/a/up/rows.csv",
        "b_file": data / "projects/b/up/x.tif",
        "loose": data / "loose.tif",
        "mosaic": data / "mosaics/op1/t0.tif",
        "shared": shared / "s.tif",
        "outside": outside / "o.tif",
    }
    for path in paths.values():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    # b's own link into a's area gives b nothing.
    (data / "projects/b/up/link.tif").symlink_to(paths["a_file"])
    return {**paths, "data": data, "shared_root": shared}


def access(layout: dict[str, Path], readable: set[str], tmp_path: Path) -> FileAccess:
    catalog = SqliteCatalog(tmp_path / "catalog.sqlite")
    band = BandRecord("b1", str(layout["a_backing"]), 1, "uint8", "EPSG:4326",
                      (1.0, 0.0, 0.0, 0.0, -1.0, 0.0), 1, 1, None)  # fmt: skip
    mosaic = BandRecord("b1", str(layout["mosaic"]), 1, "uint8", "EPSG:4326",
                        (1.0, 0.0, 0.0, 0.0, -1.0, 0.0), 1, 1, None)  # fmt: skip
    catalog.put_many(
        [
            AssetRecord("projects/a/assets/img", IMAGE, bands=(band,)),
            AssetRecord("projects/a/assets/mos", IMAGE, bands=(mosaic,)),
            AssetRecord("projects/a/assets/t", TABLE, sources=(str(layout["a_csv"]),)),
        ]
    )
    roots = Roots.of([layout["data"], layout["shared_root"]])
    return FileAccess(roots, catalog, lambda name: name in readable)


A_PROJECT = "projects/a/assets"
B_PROJECT = "projects/b/assets"


@pytest.mark.parametrize(
    ("readable", "key", "allowed"),
    [
        ({A_PROJECT}, "a_file", True),
        ({B_PROJECT}, "a_file", False),
        ({B_PROJECT}, "b_file", True),
        ({B_PROJECT}, "a_backing", False),
        ({B_PROJECT, "projects/a/assets/img"}, "a_backing", True),  # rule 1: via the asset
        ({B_PROJECT, "projects/a/assets/t"}, "a_csv", True),  # a table's source
        ({B_PROJECT}, "a_csv", False),
        ({B_PROJECT}, "mosaic", False),
        ({A_PROJECT}, "mosaic", False),  # project role alone: the mosaic is in no area...
        ({"projects/a/assets/mos"}, "mosaic", True),  # ...but it backs an asset
        ({A_PROJECT, B_PROJECT}, "loose", False),  # the data dir outside projects/: nobody
        (set(), "shared", True),
    ],
)
def test_rules(layout, tmp_path, readable: set[str], key: str, allowed: bool) -> None:
    files = access(layout, readable, tmp_path)
    uri = str(layout[key])
    if allowed:
        assert files.check(uri) == uri
    else:
        with pytest.raises(InvalidArgumentError, match=MISSING):
            files.check(uri)


def test_refusals_are_the_answer_for_a_missing_file(layout, tmp_path) -> None:
    files = access(layout, {B_PROJECT}, tmp_path)
    answers = set()
    for uri in [
        str(layout["a_file"]),  # exists, not b's
        str(layout["data"] / "projects/a/up/none.tif"),  # missing, not b's
        str(layout["data"] / "projects/b/up/none.tif"),  # missing, b's own area
        "projects/a/up/x.tif",  # relative
        str(layout["data"] / "projects/b/up/link.tif"),  # b's link into a's area
    ]:
        with pytest.raises(InvalidArgumentError) as refused:
            files.check(uri)
        answers.add(str(refused.value).replace(uri, "<uri>"))
    assert answers == {f"Cannot read '<uri>': {MISSING}."}


def test_outside_the_roots_is_still_the_roots_refusal(layout, tmp_path) -> None:
    files = access(layout, {A_PROJECT}, tmp_path)
    with pytest.raises(InvalidArgumentError, match="outside the allowed roots"):
        files.check(str(layout["outside"]))
    with pytest.raises(InvalidArgumentError, match=r"'\.\.' is not allowed"):
        files.check("projects/a/up/../../b/up/x.tif")


def test_the_deepest_root_decides(tmp_path) -> None:
    """A shared root holding the data dir does not share the project areas; a shared root
    inside the data dir is shared."""
    outer = tmp_path / "outer"
    data = outer / "data"
    inner = data / "public"
    for path in (data / "projects/a/x.tif", inner / "p.tif", outer / "o.tif", data / "l.tif"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    catalog = SqliteCatalog(tmp_path / "catalog.sqlite")
    files = FileAccess(Roots.of([data, outer, inner]), catalog, lambda name: False)
    assert files.check(str(inner / "p.tif")) == str(inner / "p.tif")
    assert files.check(str(outer / "o.tif")) == str(outer / "o.tif")
    for path in (data / "projects/a/x.tif", data / "l.tif"):
        with pytest.raises(InvalidArgumentError, match=MISSING):
            files.check(str(path))
