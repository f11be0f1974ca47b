"""Earth Engine algorithms: one module per type family, all registered in one registry."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from openee.algorithms.registry import REGISTRY, Registry


@cache
def default_registry() -> Registry:
    """The registry with every module of this package loaded: a family module registers its
    algorithms when imported, so a new module needs no entry in a hand-kept list (the other
    modules, helpers of the families, register nothing)."""
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
    return REGISTRY
