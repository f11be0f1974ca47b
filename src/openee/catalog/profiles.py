"""Product profiles: how a product's files and metadata map to Earth Engine's names.

A profile says which STAC asset becomes which Earth Engine band, and which STAC property becomes
which Earth Engine property. Unmapped STAC properties are kept under their own names.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from openee.values.date import Date

PropertyRule = Callable[[dict[str, Any]], object]


@dataclass(frozen=True)
class Profile:
    name: str
    bands: dict[str, str]  # STAC asset key -> Earth Engine band name, in band order
    properties: dict[str, PropertyRule] = field(default_factory=dict)

    def map_properties(self, stac: dict[str, Any]) -> dict[str, object]:
        mapped: dict[str, object] = {}
        for ee_name, rule in self.properties.items():
            try:
                value = rule(stac)
            except (KeyError, TypeError, ValueError):
                continue
            if value is not None:
                mapped[ee_name] = value
        for key, value in stac.items():
            if key not in mapped and isinstance(value, str | int | float | bool):
                mapped.setdefault(key, value)
        return mapped


def _key(name: str) -> PropertyRule:
    return lambda p: p[name]


def _mgrs(p: dict[str, Any]) -> str:
    return f"{p['mgrs:utm_zone']}{p['mgrs:latitude_band']}{p['mgrs:grid_square']}"


def _spacecraft(p: dict[str, Any]) -> str:
    return (
        str(p["platform"]).replace("sentinel", "Sentinel").upper().replace("SENTINEL", "Sentinel")
    )


def _product_id(p: dict[str, Any]) -> str:
    return str(p["s2:product_uri"]).removesuffix(".SAFE")


def _orbit(p: dict[str, Any]) -> int | None:
    match = re.search(r"_R(\d{3})_", str(p["s2:product_uri"]))
    return int(match.group(1)) if match else None


def _millis(name: str) -> PropertyRule:
    return lambda p: Date.parse(p[name]).millis


_S2_PERCENTAGES = {
    "CLOUD_SHADOW_PERCENTAGE": "s2:cloud_shadow_percentage",
    "DARK_FEATURES_PERCENTAGE": "s2:dark_features_percentage",
    "DEGRADED_MSI_DATA_PERCENTAGE": "s2:degraded_msi_data_percentage",
    "HIGH_PROBA_CLOUDS_PERCENTAGE": "s2:high_proba_clouds_percentage",
    "MEDIUM_PROBA_CLOUDS_PERCENTAGE": "s2:medium_proba_clouds_percentage",
    "NODATA_PIXEL_PERCENTAGE": "s2:nodata_pixel_percentage",
    "NOT_VEGETATED_PERCENTAGE": "s2:not_vegetated_percentage",
    "SATURATED_DEFECTIVE_PIXEL_PERCENTAGE": "s2:saturated_defective_pixel_percentage",
    "SNOW_ICE_PERCENTAGE": "s2:snow_ice_percentage",
    "THIN_CIRRUS_PERCENTAGE": "s2:thin_cirrus_percentage",
    "UNCLASSIFIED_PERCENTAGE": "s2:unclassified_percentage",
    "VEGETATION_PERCENTAGE": "s2:vegetation_percentage",
    "WATER_PERCENTAGE": "s2:water_percentage",
}

SENTINEL2_L2A = Profile(
    name="sentinel-2-l2a",
    bands={"blue": "B2", "green": "B3", "red": "B4", "nir": "B8", "scl": "SCL"},
    properties={
        "CLOUDY_PIXEL_PERCENTAGE": _key("eo:cloud_cover"),
        "CLOUD_COVERAGE_ASSESSMENT": _key("eo:cloud_cover"),
        "MGRS_TILE": _mgrs,
        "SPACECRAFT_NAME": _spacecraft,
        "PRODUCT_ID": _product_id,
        "SENSING_ORBIT_NUMBER": _orbit,
        "PROCESSING_BASELINE": _key("s2:processing_baseline"),
        "DATATAKE_IDENTIFIER": _key("s2:datatake_id"),
        "DATATAKE_TYPE": _key("s2:datatake_type"),
        "DATASTRIP_ID": _key("s2:datastrip_id"),
        "GRANULE_ID": _key("s2:granule_id"),
        "GENERATION_TIME": _millis("s2:generation_time"),
        "MEAN_SOLAR_AZIMUTH_ANGLE": _key("view:sun_azimuth"),
        "MEAN_SOLAR_ZENITH_ANGLE": lambda p: 90.0 - float(p["view:sun_elevation"]),
        "REFLECTANCE_CONVERSION_CORRECTION": _key("s2:reflectance_conversion_factor"),
        **{ee: _key(stac) for ee, stac in _S2_PERCENTAGES.items()},
    },
)
