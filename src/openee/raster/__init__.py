"""raster layer."""
