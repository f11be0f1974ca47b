"""One router module per Earth Engine resource."""
