"""openee: a self-hostable compute server that speaks Google Earth Engine's REST API."""

__version__ = "0.1.0"
