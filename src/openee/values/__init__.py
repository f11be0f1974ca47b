"""Earth Engine value types that are not pixels: dates, geometries, projections, filters, reducers.

They sit below both `raster/` and `catalog/` so that a filter built by an algorithm can be pushed
down into the catalog's query, and a projection can describe a band.
"""
