"""Table encoders on small inputs: CSV cells, KML escaping, Shapefile geometry types and names."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET

import pytest

from openee.encode.tables import dbf_names, table_format
from openee.errors import InvalidArgumentError

FEATURES = [
    {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [14.5, 46.05]},
        "id": "a",
        "properties": {"name": "Ljubljana & <Celje>", "n": 3, "x": 0.1, "d": {"k": [1, 2]}},
    },
    {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]},
        "id": "b",
        "properties": {"name": None, "flag": True},
    },
]


def test_csv_columns_and_cells() -> None:
    text = table_format("csv").encode(FEATURES, None, "t").decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["system:index", "name", "n", "x", "d", "flag", ".geo"]
    assert rows[1][:6] == ["a", "Ljubljana & <Celje>", "3", "0.1", '{"k":[1,2]}', ""]
    assert rows[2][1:6] == ["", "", "", "", "true"]


def test_kml_escapes_text() -> None:
    root = ET.fromstring(table_format("KML").encode(FEATURES, ["name"], "t"))
    ns = "{http://www.opengis.net/kml/2.2}"
    values = [v.text for v in root.iter(f"{ns}value")]
    assert values[0] == "Ljubljana & <Celje>"


def test_shapefile_refuses_mixed_geometry_types() -> None:
    with pytest.raises(InvalidArgumentError, match="one geometry type"):
        table_format("SHP").encode(FEATURES, None, "t")


def test_dbf_names_are_short_and_unique() -> None:
    assert dbf_names(["population_2020", "population_2021", "x"]) == [
        "population",
        "populatio1",
        "x",
    ]


@pytest.mark.parametrize("name", ["XLSX", "tf_record_table"])
def test_unknown_and_unsupported_formats(name: str) -> None:
    with pytest.raises(InvalidArgumentError):
        table_format(name)
