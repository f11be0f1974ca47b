"""Earth Engine's other names for Image algorithms: deprecated snake_case spellings
(`Image.focal_min`, `Image.bitwise_and`, ...) and short cast names (`Image.byte`, `Image.int`, ...).

Each alias is registered with the very function of the algorithm it names, so the two cannot
drift apart; registration still checks the alias against Earth Engine's own signature.
"""

from __future__ import annotations

from dataclasses import replace

from openee.algorithms import image, image_math, kernel  # noqa: F401 - register the targets first
from openee.algorithms.number import ALIASES as OPERATOR_ALIASES
from openee.algorithms.registry import REGISTRY, build_algorithm

ALIASES: dict[str, str] = {
    "focal_min": "focalMin",
    "focal_max": "focalMax",
    "focal_median": "focalMedian",
    "focal_mode": "focalMode",
    "focal_mean": "focalMean",
    **OPERATOR_ALIASES,
    "uint8": "toUint8",
    "int8": "toInt8",
    "uint16": "toUint16",
    "int16": "toInt16",
    "int32": "toInt32",
    "uint32": "toUint32",
    "int64": "toInt64",
    "byte": "toUint8",
    "toByte": "toUint8",
    "short": "toInt16",
    "toShort": "toInt16",
    "int": "toInt32",
    "long": "toInt64",
    "toLong": "toInt64",
    "float": "toFloat",
    "double": "toDouble",
}


def register_alias(alias: str, target: str) -> None:
    """Registers Image.`alias` as another name of Image.`target`."""
    original = REGISTRY.lookup(f"Image.{target}")
    registered = build_algorithm(f"Image.{alias}", original.func, original.lazy)
    REGISTRY.add(
        replace(registered, description=f"{original.description} (Same as Image.{target}.)")
    )


for _alias, _target in ALIASES.items():
    register_alias(_alias, _target)
