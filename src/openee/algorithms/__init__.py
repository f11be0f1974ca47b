"""Earth Engine algorithms: one module per type family, all registered in one registry."""

from __future__ import annotations

from openee.algorithms.registry import REGISTRY, Registry


def default_registry() -> Registry:
    """The registry with every family module loaded."""
    from openee.algorithms import (  # noqa: F401 - imported for their registrations
        array_value,
        classifier,
        clusterer,
        collection,
        confusion_matrix,
        dates,
        dictionary,
        element,
        expression,
        feature,
        feature_collection,
        feature_images,
        filters,
        geometry,
        geometry_grid,
        geometry_ops,
        geometry_s2,
        image,
        image_alias,
        image_array,
        image_bands,
        image_collection,
        image_collection_ops,
        image_collection_trend,
        image_color,
        image_distance,
        image_file,
        image_local,
        image_lookup,
        image_math,
        image_matrix,
        image_medial,
        image_objects,
        image_place,
        image_reduce,
        image_register,
        image_segmentation,
        image_spatial,
        image_spectral,
        image_vectors,
        image_visualize,
        image_zarr,
        interpolation,
        joins,
        kernel,
        lists,
        number,
        pixel_type,
        projection,
        reducers,
        string,
        terrain,
    )

    return REGISTRY
