"""Collection and Element: what image collections and feature collections share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from openee.algorithms import aggregate
from openee.algorithms.aggregate_weighted import evaluate_weighted, weighted_inputs
from openee.algorithms.filter_expression import parse_filter
from openee.algorithms.registry import algorithm
from openee.errors import InvalidArgumentError
from openee.raster.image import Image, ImageCollection
from openee.values.feature import INDEX, Feature, FeatureCollection
from openee.values.filter import Filter
from openee.values.reducer import Reducer

Collection = ImageCollection | FeatureCollection
Element = Image | Feature | ImageCollection | FeatureCollection


def elements(collection: Collection) -> list[Any]:
    if isinstance(collection, ImageCollection):
        return collection.images
    return list(collection.features)


def rebuild(collection: Collection, items: list[Any]) -> Collection:
    """A collection of the same kind holding `items` (in memory)."""
    if isinstance(collection, ImageCollection) and all(isinstance(i, Image) for i in items):
        return collection.with_images(items)
    return FeatureCollection(tuple(items), collection.id, dict(collection.properties))


def _property(element: Any, name: str) -> Any:
    getter = getattr(element, "get", None)
    return getter(name) if callable(getter) else None


@algorithm("Collection")
def collection(features: list[Any]) -> FeatureCollection:
    """Creates a collection from a list of elements.

    Args:
        features: The elements; features without an id are numbered '0', '1', ...
    """
    return FeatureCollection(tuple(numbered(features)))


def numbered(items: list[Any]) -> list[Any]:
    """Features without an id get their position as id (their 'system:index')."""
    return [
        replace(f, id=str(i)) if isinstance(f, Feature) and f.id is None else f
        for i, f in enumerate(items)
    ]


@algorithm("Collection.filter")
def collection_filter(collection: Collection, filter: Any) -> Collection:
    """Applies a filter to a collection.

    Args:
        collection: The collection to filter.
        filter: The filter, or a filter expression such as 'name == "Slovenia"' (see
            Filter.expression); elements that pass it are kept.
    """
    if isinstance(filter, str):
        filter = parse_filter(filter)
    if not isinstance(filter, Filter):
        raise InvalidArgumentError("Collection.filter: 'filter' must be a Filter.")
    if isinstance(collection, ImageCollection):
        return collection.filtered(filter)
    kept = [f for f in collection.features if filter.matches(f)]
    return replace(collection, features=tuple(kept))


@algorithm("Collection.size")
def collection_size(collection: Collection) -> int:
    """Returns the number of elements in the collection.

    Args:
        collection: The collection.
    """
    return len(elements(collection))


@algorithm("Collection.first")
def collection_first(collection: Collection) -> Any:
    """Returns the first element of the collection, or null if it is empty.

    Args:
        collection: The collection.
    """
    items = elements(collection)
    return items[0] if items else None


@algorithm("Collection.limit")
def collection_limit(
    collection: Collection, limit: int | None = None, key: str | None = None, ascending: bool = True
) -> Collection:
    """Sorts a collection by a property and keeps at most `limit` elements.

    Args:
        collection: The collection.
        limit: The number of elements to keep. Default: all.
        key: The property to sort by. Default: keep the collection's order.
        ascending: Whether to sort in ascending order.
    """
    items = elements(collection)
    if key is not None:
        present = [i for i in items if _property(i, key) is not None]
        absent = [i for i in items if _property(i, key) is None]
        present.sort(key=lambda i: _property(i, key), reverse=not ascending)
        items = present + absent
    if limit is not None:
        if limit < 0:
            raise InvalidArgumentError("Collection.limit: limit must not be negative.")
        items = items[:limit]
    if isinstance(collection, FeatureCollection):
        return replace(collection, features=tuple(items))  # keeps a table's columns
    return rebuild(collection, items)


@algorithm("Collection.map")
def collection_map(
    collection: Collection, baseAlgorithm: Callable[..., Any], dropNulls: bool = False
) -> Collection:
    """Maps an algorithm over a collection.

    Args:
        collection: The collection.
        baseAlgorithm: A function of one element returning an element.
        dropNulls: If true, null results are left out.
    """
    out = [baseAlgorithm(item) for item in elements(collection)]
    if dropNulls:
        out = [v for v in out if v is not None]
    return rebuild(collection, out)


@algorithm("Collection.iterate")
def collection_iterate(
    collection: Collection, function: Callable[..., Any], first: Any = None
) -> Any:
    """Applies a function of (element, previous result) to each element in turn.

    Args:
        collection: The collection.
        function: A function of two arguments: the element and the result so far.
        first: The initial result.
    """
    acc = first
    for item in elements(collection):
        acc = function(item, acc)
    return acc


@algorithm("Collection.toList")
def collection_to_list(collection: Collection, count: int, offset: int = 0) -> list[Any]:
    """Returns up to `count` elements of the collection, starting at `offset`, as a list.

    Args:
        collection: The collection.
        count: The maximum number of elements.
        offset: The number of elements to skip.
    """
    if count < 0 or offset < 0:
        raise InvalidArgumentError("Collection.toList: count and offset must not be negative.")
    return elements(collection)[offset : offset + count]


@algorithm("Collection.reduceColumns")
def reduce_columns(
    collection: Collection,
    reducer: Reducer,
    selectors: list[str],
    weightSelectors: list[str] | None = None,
) -> dict[str, Any]:
    """Reduces properties (columns) of the elements with a reducer.

    Args:
        collection: The collection.
        reducer: The reducer; it takes as many inputs as there are selectors.
        selectors: The properties to reduce, one per reducer input.
        weightSelectors: The properties weighting the reducer's weighted inputs, one per
            weighted input (those of mean, sum, variance and stdDev); elements with a null
            weight are skipped.
    """
    if len(selectors) != reducer.num_inputs():
        raise InvalidArgumentError(
            f"Collection.reduceColumns: the reducer takes {reducer.num_inputs()} inputs but "
            f"{len(selectors)} selectors were given."
        )
    items = elements(collection)
    columns = [[_property(i, s) for i in items] for s in selectors]
    if not weightSelectors:
        return aggregate.reduce_columns(reducer, columns)
    takes = weighted_inputs(reducer)
    if len(weightSelectors) != sum(takes):
        raise InvalidArgumentError(
            f"Collection.reduceColumns: the reducer has {sum(takes)} weighted inputs (mean, sum, "
            f"variance and stdDev take weights) but {len(weightSelectors)} weightSelectors "
            "were given."
        )
    chosen = iter(weightSelectors)
    names = [next(chosen) if t else None for t in takes]
    weights = [None if n is None else [_property(i, n) for i in items] for n in names]
    values = evaluate_weighted(reducer, columns, weights)
    return dict(zip(reducer.outputs, values, strict=True))


@algorithm("Element.toDictionary")
def to_dictionary(element: Element, properties: list[str] | None = None) -> dict[str, Any]:
    """Extracts properties of an element into a dictionary.

    Args:
        element: The element.
        properties: The properties to extract. Default: all non-system properties.
    """
    props: dict[str, Any] = dict(element.properties)
    if properties is None:
        return {k: v for k, v in props.items() if not k.startswith("system:")}
    return {k: props[k] for k in properties if k in props}


@algorithm("Element.get")
def element_get(object: Element, property: str) -> Any:
    """Extracts a property from an element; null if it is absent.

    Args:
        object: The element.
        property: The property name.
    """
    return object.get(property)


@algorithm("Element.set")
def element_set(object: Element, key: str, value: Any = None) -> Element:
    """Returns the element with a property set.

    Args:
        object: The element.
        key: The property name.
        value: The property value.
    """
    return replace(object, properties={**object.properties, key: value})


@algorithm("Element.setMulti")
def element_set_multi(object: Element, properties: dict[str, Any]) -> Element:
    """Returns the element with several properties set.

    Args:
        object: The element.
        properties: The properties to set.
    """
    return replace(object, properties={**object.properties, **properties})


@algorithm("Element.propertyNames")
def property_names(element: Element) -> list[str]:
    """Returns the names of the element's properties; a feature with an id (every feature of
    a collection) also lists 'system:index', which holds its id.

    Args:
        element: The element.
    """
    names = list(element.properties)
    if isinstance(element, Feature) and element.id is not None and INDEX not in names:
        names.append(INDEX)
    return names


# Earth Engine type names a fromColumns column may be converted to.
_COLUMN_TYPES: dict[str, Callable[[Any], Any]] = {
    "Integer": int,
    "Long": int,
    "Float": float,
    "Double": float,
    "Number": lambda v: v,
    "String": str,
    "Boolean": bool,
    "Object": lambda v: v,
}


@algorithm("Collection.fromColumns")
def from_columns(
    columns: list[Any], propertyNames: list[str], propertyTypes: list[Any] | None = None
) -> FeatureCollection:
    """Creates a collection of geometry-less features from columns of values: feature i holds
    the i-th value of each column, under that column's property name.

    Args:
        columns: One list of values per property, all of the same length.
        propertyNames: The property name of each column.
        propertyTypes: The type of each column ('Integer', 'Long', 'Float', 'Double',
            'Number', 'String', 'Boolean' or 'Object'); values are converted to it.
    """
    if len(columns) != len(propertyNames):
        raise InvalidArgumentError(f"{len(columns)} columns but {len(propertyNames)} names.")
    if not all(isinstance(c, list) for c in columns):
        raise InvalidArgumentError("each column must be a list.")
    if len({len(c) for c in columns}) > 1:
        raise InvalidArgumentError("the columns differ in length.")
    converters: list[Callable[[Any], Any]] = [_COLUMN_TYPES["Object"]] * len(columns)
    if propertyTypes is not None:
        if len(propertyTypes) != len(columns):
            raise InvalidArgumentError("one type per column is needed.")
        unknown = [t for t in propertyTypes if t not in _COLUMN_TYPES]
        if unknown:
            raise InvalidArgumentError(f"unknown type {unknown[0]!r}.")
        converters = [_COLUMN_TYPES[t] for t in propertyTypes]
    rows = zip(*columns, strict=True) if columns else iter(())
    features = [
        Feature(
            None,
            {
                n: (convert(v) if v is not None else None)
                for n, convert, v in zip(propertyNames, converters, row, strict=True)
            },
            str(i),
        )
        for i, row in enumerate(rows)
    ]
    return FeatureCollection(tuple(features))
