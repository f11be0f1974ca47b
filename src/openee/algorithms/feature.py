"""Feature: the geometry algorithms applied to a feature's geometry, plus properties and ids.

`Feature.<op>` is `Geometry.<op>` on the feature's geometry (an image's footprint for images);
operations that return a geometry return the (left) feature with that geometry instead.
They are generated from the Geometry algorithms so that the two cannot drift apart.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import replace
from typing import Any

from openee.algorithms import geometry_ops  # noqa: F401 - registers the Geometry algorithms
from openee.algorithms.dictionary import matching_keys
from openee.algorithms.registry import REGISTRY, algorithm
from openee.errors import InvalidArgumentError
from openee.raster.image import Image
from openee.values.feature import Feature
from openee.values.geometry import ErrorMargin, Geometry
from openee.values.geometry_space import in_crs
from openee.values.projection import Projection

# Geometry algorithms with a Feature twin: name -> whether the twin returns a Feature.
TWINS = {
    "area": False,
    "length": False,
    "perimeter": False,
    "distance": False,
    "withinDistance": False,
    "intersects": False,
    "disjoint": False,
    "contains": False,
    "containedIn": False,
    "closestPoint": False,
    "closestPoints": False,
    "buffer": True,
    "centroid": True,
    "cutLines": True,
    "bounds": True,
    "convexHull": True,
    "simplify": True,
    "dissolve": True,
    "transform": True,
    "intersection": True,
    "union": True,
    "difference": True,
    "symmetricDifference": True,
}


def geometry_of(element: Any) -> Geometry:
    """The geometry of a feature, or the footprint of an image."""
    if isinstance(element, Geometry):
        return element
    if isinstance(element, Feature):
        if element.geometry is None:
            raise InvalidArgumentError("The feature has no geometry.")
        return element.geometry
    if isinstance(element, Image) and element.footprint_geometry is not None:
        return element.footprint_geometry
    raise InvalidArgumentError(f"A {type(element).__name__} has no geometry.")


def _with_geometry(element: Any, geometry: Geometry) -> Any:
    if isinstance(element, Feature):
        return replace(element, geometry=geometry)
    return Feature(geometry, dict(getattr(element, "properties", {})))


def _twin(name: str, returns_feature: bool) -> None:
    op = REGISTRY.lookup(f"Geometry.{name}").func
    params = list(inspect.signature(op).parameters.values())
    first = "feature" if params[0].name == "geometry" else "left"
    renamed = [p.replace(name="feature") if p.name == "geometry" else p for p in params]
    element_params = {"feature", "left", "right"}

    def twin(**kwargs: Any) -> Any:
        args = {
            ("geometry" if k == "feature" else k): geometry_of(v) if k in element_params else v
            for k, v in kwargs.items()
        }
        result = op(**args)
        if returns_feature:
            return _with_geometry(kwargs[first], result)
        return result

    twin.__signature__ = inspect.Signature(renamed)  # type: ignore[attr-defined]
    doc = inspect.getdoc(op) or ""
    doc = doc.replace("geometry: The geometry.", "feature: The feature (or image footprint).")
    doc = re.sub(r"(?m)^(\s+)geometry: ", r"\1feature: The feature; its geometry: ", doc)
    doc = re.sub(r"(left|right): The (\w+ )?geometry", r"\1: The \2feature", doc)
    summary = f"Geometry.{name} of the feature's geometry"
    if returns_feature:
        summary += ", as the feature with that geometry"
    twin.__doc__ = f"{summary}. {doc}"
    algorithm(f"Feature.{name}")(twin)


for _name, _returns_feature in TWINS.items():
    _twin(_name, _returns_feature)


# Earth Engine has the same algorithm under two names.
@algorithm("Element.geometry")
@algorithm("Feature.geometry")
def feature_geometry(
    feature: Any,
    maxError: ErrorMargin | None = None,
    proj: Projection | None = None,
    geodesics: bool | None = None,
) -> Geometry | None:
    """Returns the geometry of a feature (null if it has none), optionally in a projection.

    Args:
        feature: The feature.
        maxError: The tolerated error when reprojecting (ignored).
        proj: The projection of the result. Default: the geometry's own.
        geodesics: Whether the result's edges are geodesics. Default: as stored.
    """
    return _geometry(feature, proj, geodesics)


def _geometry(feature: Any, proj: Projection | None, geodesics: bool | None) -> Geometry | None:
    if isinstance(feature, Feature) and feature.geometry is None:
        return None
    geometry = geometry_of(feature)
    if proj is not None and proj.crs != geometry.crs:
        geometry = Geometry(in_crs(geometry, proj.crs), proj.crs, False)
    if geodesics is not None:
        # The edges are re-read, as Earth Engine's geodesics argument asks: vertices are kept.
        geometry = replace(geometry, geodesic=geodesics)
    return geometry


@algorithm("Feature.setGeometry")
def set_geometry(feature: Any, geometry: Geometry | None = None) -> Any:
    """Returns the feature with its geometry replaced.

    Args:
        feature: The feature.
        geometry: The new geometry, or null.
    """
    if not isinstance(feature, Feature):
        raise InvalidArgumentError("Feature.setGeometry: the element is not a feature.")
    return replace(feature, geometry=geometry)


@algorithm("Feature.id")
def feature_id(element: Any) -> Any:
    """Returns the id of an element (a feature's 'system:index'), or null.

    Args:
        element: The element.
    """
    if isinstance(element, Feature):
        return element.id
    return getattr(element, "id", None)


@algorithm("Feature.select")
def feature_select(
    input: Any,
    propertySelectors: list[str],
    newProperties: list[str] | None = None,
    retainGeometry: bool = True,
) -> Any:
    """Keeps the properties that match the selectors, optionally renaming them.

    Args:
        input: The feature.
        propertySelectors: Property names or regular expressions of property names.
        newProperties: New names for the selected properties, in order.
        retainGeometry: Whether to keep the geometry.
    """
    if not isinstance(input, Feature):
        raise InvalidArgumentError("Feature.select: the element is not a feature.")
    keys = matching_keys(list(input.properties), propertySelectors, True, "Feature.select")
    if newProperties is not None:
        if len(newProperties) != len(keys):
            raise InvalidArgumentError(
                f"Feature.select: {len(keys)} properties selected but "
                f"{len(newProperties)} new names given."
            )
        props = {new: input.properties[old] for old, new in zip(keys, newProperties, strict=True)}
    else:
        props = {k: input.properties[k] for k in keys}
    return replace(input, properties=props, geometry=input.geometry if retainGeometry else None)
