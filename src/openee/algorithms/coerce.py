"""Argument checking and promotion by Earth Engine type name.

Earth Engine promotes some values to the declared type (a number to a constant Image, a string to
a Date, GeoJSON to a Geometry); anything else of the wrong type is rejected with its wording:
`Image.select, argument 'input': Invalid type.` followed by the expected and actual types.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from openee.errors import InvalidArgumentError
from openee.raster.image import Image, ImageCollection, constant_image
from openee.values.classifier import Classifier
from openee.values.clusterer import Clusterer
from openee.values.confusion import ConfusionMatrix
from openee.values.date import Date, DateRange
from openee.values.feature import Feature, FeatureCollection
from openee.values.filter import Filter
from openee.values.geometry import ErrorMargin, Geometry
from openee.values.join import Join
from openee.values.kernel import Kernel
from openee.values.pixel_type import PixelType
from openee.values.projection import Projection
from openee.values.reducer import Reducer


def type_name(value: object) -> str:
    """Earth Engine's name for the type of a value, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int):
        return "Integer"
    if isinstance(value, float):
        return "Float"
    if isinstance(value, str):
        return "String"
    if isinstance(value, list | tuple):
        return "List"
    if isinstance(value, dict):
        return "Dictionary"
    if callable(value) and not hasattr(value, "info"):
        return "Function"
    # Classes named otherwise than Earth Engine's types: ArrayValue, the Filter subclasses.
    names = [cls.__name__ for cls in type(value).__mro__]
    if names[0] == "ArrayValue":
        return "Array"
    return "Filter" if "Filter" in names else names[0]


class _Mismatch(Exception):
    pass


def _number(v: object) -> object:
    if isinstance(v, int | float):
        return v
    raise _Mismatch


def _integer(v: object) -> object:
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int):
        return v
    if isinstance(v, float) and v.is_integer():
        return int(v)
    raise _Mismatch


def _string(v: object) -> object:
    if isinstance(v, str):
        return v
    raise _Mismatch


def _boolean(v: object) -> object:
    if isinstance(v, bool):
        return v
    if isinstance(v, int | float):
        return bool(v)
    raise _Mismatch


def _list(v: object) -> object:
    if isinstance(v, list | tuple):
        return list(v)
    raise _Mismatch


def _dictionary(v: object) -> object:
    if isinstance(v, dict):
        return v
    raise _Mismatch


def _image(v: object) -> object:
    if isinstance(v, Image):
        return v
    if isinstance(v, int | float):
        return constant_image([v])
    if isinstance(v, list | tuple) and v and all(isinstance(x, int | float) for x in v):
        return constant_image(list(v))
    raise _Mismatch


def _image_collection(v: object) -> object:
    if isinstance(v, ImageCollection):
        return v
    if isinstance(v, list | tuple) and all(isinstance(x, Image) for x in v):
        return ImageCollection(static=tuple(v))
    raise _Mismatch


def _collection(v: object) -> object:
    if isinstance(v, ImageCollection | FeatureCollection):
        return v
    raise _Mismatch


def _element(v: object) -> object:
    if isinstance(v, Image | Feature | ImageCollection | FeatureCollection):
        return v
    raise _Mismatch


def _date(v: object) -> object:
    if isinstance(v, Date):
        return v
    if isinstance(v, int | float | str) and not isinstance(v, bool):
        return Date.parse(v)
    raise _Mismatch


def _date_range(v: object) -> object:
    if isinstance(v, DateRange):
        return v
    if isinstance(v, Date | int | float | str) and not isinstance(v, bool):
        start = Date.parse(v)
        return DateRange(start, Date(start.millis + 86_400_000))
    raise _Mismatch


def _geometry(v: object) -> object:
    if isinstance(v, Geometry):
        return v
    if isinstance(v, Feature) and v.geometry is not None:
        return v.geometry
    if isinstance(v, dict) and "type" in v:
        return Geometry.from_geojson(v)
    raise _Mismatch


def _error_margin(v: object) -> object:
    margin = ErrorMargin.of(v)
    if margin is None:
        raise _Mismatch
    return margin


def _projection(v: object) -> object:
    if isinstance(v, Projection):
        return v
    if isinstance(v, str):
        return Projection.of(v)
    if isinstance(v, dict) and v.get("type") == "Projection" and isinstance(v.get("crs"), str):
        return Projection.of(v["crs"], v.get("transform"))
    raise _Mismatch


def _instance(cls: type) -> Callable[[object], object]:
    def check(v: object) -> object:
        if isinstance(v, cls):
            return v
        raise _Mismatch

    return check


def _algorithm(v: object) -> object:
    if callable(v):
        return v
    raise _Mismatch


_CHECKERS: dict[str, Callable[[object], object]] = {
    "Number": _number,
    "Float": _number,
    "Double": _number,
    "Integer": _integer,
    "Long": _integer,
    "Short": _integer,
    "Byte": _integer,
    "String": _string,
    "Boolean": _boolean,
    "List": _list,
    "Dictionary": _dictionary,
    "Image": _image,
    "ImageCollection": _image_collection,
    "FeatureCollection": _collection,
    "Collection": _collection,
    "Element": _element,
    "Date": _date,
    "DateRange": _date_range,
    "Geometry": _geometry,
    "Projection": _projection,
    "ErrorMargin": _error_margin,
    "Feature": _instance(Feature),
    "ConfusionMatrix": _instance(ConfusionMatrix),
    "Classifier": _instance(Classifier),
    "Clusterer": _instance(Clusterer),
    "Filter": _instance(Filter),
    "Reducer": _instance(Reducer),
    "Kernel": _instance(Kernel),
    "Join": _instance(Join),
    "PixelType": _instance(PixelType),
    "Algorithm": _algorithm,
}


def coerce(value: object, ee_type: str, name: str, optional: bool) -> Any:
    """Check (and promote) an argument value of declared type `ee_type`.

    Args:
        value: The evaluated argument.
        ee_type: Earth Engine's type string, e.g. 'Image<unknown bands>' or 'List<String>'.
        name: The argument's name, for messages.
        optional: Whether null is acceptable.

    The caller prefixes messages with the algorithm and argument ("Image.select, argument 'x'").
    """
    base = re.sub(r"<.*>", "", ee_type)
    if value is None:
        if optional or base == "Object":
            return None
        raise InvalidArgumentError(f"Parameter '{name}' is required.")
    checker = _CHECKERS.get(base)
    if checker is None:
        return value
    try:
        return checker(value)
    except _Mismatch:
        raise InvalidArgumentError(
            f"Invalid type.\nExpected type: {ee_type}.\nActual type: {type_name(value)}."
        ) from None
