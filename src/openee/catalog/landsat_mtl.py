"""Landsat MTL metadata files (`_MTL.json`, `_MTL.txt`) as Earth Engine image properties.

Level-1 and pre-collection scenes keep every scalar of the MTL under its own key (first
occurrence wins): Earth Engine's raw and TOA images carry the radiometric rescaling and thermal
constants that `Landsat.calibratedRadiance` and `Landsat.TOA` read (RADIANCE_MULT_BAND_n,
REFLECTANCE_MULT_BAND_n, K1_CONSTANT_BAND_n, SUN_ELEVATION, ...).

Collection 2 Level-2 products (L2SP/L2SR) get the property set of Earth Engine's
LANDSAT/LC0x/C02/T1_L2 images instead (`level2_properties`, docs/decisions/0028): the level-2
scale factors (REFLECTANCE_MULT_BAND_1..7, TEMPERATURE_MULT_BAND_ST_B10, ...), the scene
attributes, and the level-1 processing record with `L1_` before the names it shares with the
level-2 record. The level-1 rescaling groups, whose REFLECTANCE_MULT_BAND_1..9 would collide
with the level-2 factors, are left out, as Earth Engine does: the guides' `prep_sr_l8` selects
`REFLECTANCE_MULT_BAND_.` and expects one factor per SR band.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from openee.values.date import Date

Groups = dict[str, dict[str, object]]


def text_value(text: str) -> object:
    """A value read as text (MTL files, file names): numbers become numbers, quoted strings
    lose their quotes."""
    text = text.strip().strip('"')
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return text


def read_groups(path: Path) -> Groups:
    """The MTL's innermost groups, each a dict of its scalar values in file order."""
    groups: Groups = {}
    if path.suffix.lower() == ".json":

        def walk(name: str, node: dict[str, object]) -> None:
            for key, value in node.items():
                if isinstance(value, dict):
                    walk(key, value)
                elif isinstance(value, str):
                    groups.setdefault(name, {})[key] = text_value(value)

        walk("", json.loads(path.read_text()))
        return groups
    stack: list[str] = [""]
    for line in path.read_text(errors="replace").replace("\0", "").splitlines():
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep:
            continue
        if key == "GROUP":
            stack.append(value.strip())
        elif key == "END_GROUP":
            if len(stack) > 1:
                stack.pop()
        else:
            groups.setdefault(stack[-1], {})[key] = text_value(value)
    return groups


def read_mtl(path: Path) -> dict[str, object]:
    """A Landsat MTL flattened to Earth Engine-style properties: every scalar under its MTL key
    (first occurrence wins), file names left out; Collection 2 Level-2 products get
    `level2_properties` instead."""
    groups = read_groups(path)
    level = groups.get("PRODUCT_CONTENTS", {}).get("PROCESSING_LEVEL")
    if isinstance(level, str) and level.startswith("L2"):
        return level2_properties(groups)
    flat: dict[str, object] = {}
    for values in groups.values():
        for key, value in values.items():
            if not key.startswith("FILE_NAME") and not key.endswith("_FILE_NAME"):
                flat.setdefault(key, value)
    return flat


# Bookkeeping about the delivered files, not the scene: not on Earth Engine's images.
_FILE_KEYS = re.compile(r"FILE_NAME.*|.*_FILE_NAME|DATA_TYPE_.*|ORIGIN|DIGITAL_OBJECT_IDENTIFIER")
# Level-1 record keys that the level-2 record also has: Earth Engine prefixes them with L1_.
_L1_PREFIXED = (
    "LANDSAT_PRODUCT_ID",
    "PROCESSING_LEVEL",
    "DATE_PRODUCT_GENERATED",
    "PROCESSING_SOFTWARE_VERSION",
    "REQUEST_ID",
)
# Level-2 parameters Earth Engine keeps: the scale factors and the temperature range.
_L2_PARAMETERS = re.compile(
    r"REFLECTANCE_(MULT|ADD)_BAND_\d+|TEMPERATURE_(MULT|ADD|MAXIMUM|MINIMUM)_BAND_ST_B\d+"
)


def level2_properties(groups: Groups) -> dict[str, object]:
    """The properties of Earth Engine's Collection 2 Level-2 images, from an L2 MTL's groups."""
    props: dict[str, object] = {}

    def keep(values: dict[str, object], rename: dict[str, str] | None = None) -> None:
        for key, value in values.items():
            if _FILE_KEYS.fullmatch(key):
                continue
            props.setdefault((rename or {}).get(key, key), value)

    product = groups.get("PRODUCT_CONTENTS", {})
    keep({k: v for k, v in product.items() if k != "OUTPUT_FORMAT"})
    keep(groups.get("IMAGE_ATTRIBUTES", {}))
    projection = groups.get("PROJECTION_ATTRIBUTES", {})
    keep({k: v for k, v in projection.items() if not k.startswith("CORNER_")})
    keep(
        {
            k: v
            for k, v in groups.get("LEVEL2_PROCESSING_RECORD", {}).items()
            if k != "OUTPUT_FORMAT"
        }
    )
    for name in ("LEVEL2_SURFACE_REFLECTANCE_PARAMETERS", "LEVEL2_SURFACE_TEMPERATURE_PARAMETERS"):
        keep({k: v for k, v in groups.get(name, {}).items() if _L2_PARAMETERS.fullmatch(k)})
    level1 = {
        k: v
        for k, v in groups.get("LEVEL1_PROCESSING_RECORD", {}).items()
        if k not in ("OUTPUT_FORMAT", "COLLECTION_CATEGORY")
    }
    keep(level1, {k: f"L1_{k}" for k in _L1_PREFIXED})
    generated = props.get("DATE_PRODUCT_GENERATED")
    if isinstance(generated, str):  # a timestamp (ms) on Earth Engine's L2 images
        props["DATE_PRODUCT_GENERATED"] = Date.parse(generated).millis
    return props


def mtl_time(mtl: dict[str, object]) -> int | None:
    """DATE_ACQUIRED + SCENE_CENTER_TIME in ms since the epoch (the date alone at 00:00 UTC)."""
    date, clock = mtl.get("DATE_ACQUIRED"), mtl.get("SCENE_CENTER_TIME")
    if not isinstance(date, str):
        return None
    if isinstance(clock, str):
        # Seconds carry up to 7 decimals; datetime takes 6.
        clock = re.sub(r"(\.\d{6})\d*", r"\1", clock)
        return Date.parse(f"{date}T{clock}").millis
    return Date.parse(date).millis
