"""The reducer registry is the one table of reducer names (docs/decisions/0038).

- A scan of src/ for string literals equal to a reducer name: none outside the registry, except
  the modules listed in REMAINING, each at most its count (a ratchet: a module that loses
  literals lowers its count; a new module with one fails).
- The kernel tables that contexts still keep hold exactly the reducers the registry gives them.
- Every reducer constructor of the algorithm registry builds a reducer the registry knows.
"""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

from openee.algorithms import default_registry
from openee.reducers.registry import SPECS, Context, names_in

SRC = Path(__file__).resolve().parents[2] / "src" / "openee"
REGISTRY = SRC / "reducers"  # the registry, its kernels and order statistics

# Modules that still name reducers, with how many literals each may hold.
REMAINING = {
    # Reducers still dispatched by name (issue 14, item 1: what remains to move onto the specs).
    "algorithms/reducers.py": 37,  # constructors: combinators, outputs ('histogram', ...)
    # Strings that are reducer names by coincidence.
    "algorithms/feature_collection.py": 20,  # aggregate_* algorithms and aggregate_stats keys
    "algorithms/interpolation.py": 1,  # the stdDev argument of kriging
    "algorithms/number.py": 9,  # Number.min, Number.and, ...
    "algorithms/expression.py": 8,  # expression operators
    "raster/bandmath.py": 8,  # band math operators
    "algorithms/image_visualize.py": 4,  # visualization parameters
    "raster/pixeltype.py": 4,  # pixel type ranges
    "algorithms/image_alias.py": 2,  # Image.bitwiseAnd/Or aliases
    "algorithms/image_math.py": 2,  # Image.min/max
    "values/pixel_type.py": 2,  # PixelType ranges
    "services/export_image.py": 4,  # pyramiding policies, rasterio's band count
    "encode/visualize.py": 2,  # visualization parameters
    "algorithms/array_math.py": 1,
    "encode/formats.py": 1,
    "values/classifier.py": 1,  # a classifier's output mode
    "values/classifier_document.py": 2,  # a classifier's output mode
}


def _reducer_names() -> set[str]:
    return set(SPECS)


def literals(root: Path, names: set[str]) -> Counter[str]:
    """How many string literals equal to one of `names` each module under `root` holds."""
    found: Counter[str] = Counter()
    for path in sorted(root.rglob("*.py")):
        if path.is_relative_to(REGISTRY):
            continue
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and node.value in names
            ):
                found[path.relative_to(root).as_posix()] += 1
    return found


def test_reducer_names_live_in_the_registry() -> None:
    found = literals(SRC, _reducer_names())
    new = {m: n for m, n in found.items() if m not in REMAINING}
    assert new == {}, "name reducers through openee.reducers.registry, not string literals"
    grown = {m: (n, REMAINING[m]) for m, n in found.items() if n > REMAINING[m]}
    assert grown == {}, "more reducer-name literals than allowed: (found, allowed)"
    done = sorted(m for m in REMAINING if found.get(m, 0) < REMAINING[m])
    assert done == [], "fewer literals than REMAINING allows: lower (or drop) these counts"


def test_the_scan_finds_a_literal(tmp_path: Path) -> None:
    (tmp_path / "context.py").write_text('if reducer.name == "median":\n    pass\n')
    (tmp_path / "doc.py").write_text('"""The median of the inputs."""\n')
    assert literals(tmp_path, {"median"}) == Counter({"context.py": 1})


def test_context_kernel_tables_match_the_registry() -> None:
    # Over lists: a kernel, or a combinator's split or walk (exactly one of them).
    for s in SPECS.values():
        kernels = [k for k in (s.aggregate, s.split, s.walk) if k is not None]
        assert len(kernels) == s.runs_in(Context.AGGREGATE), s.name
    # The collection kernels: per pixel, or statistics of several outputs.
    per_pixel = {s.name for s in SPECS.values() if s.pixel is not None}
    statistics = {s.name for s in SPECS.values() if s.stats is not None}
    assert per_pixel == set(names_in(Context.BANDS)) == set(names_in(Context.FEATURE_IMAGE))
    assert per_pixel.isdisjoint(statistics)
    assert per_pixel | statistics == set(names_in(Context.COLLECTION))


def test_every_reducer_constructor_builds_a_known_reducer() -> None:
    registry = default_registry()
    # These return a reducer they are given, changed; every other one builds a new reducer.
    modifiers = {"repeat", "setOutputs", "getOutputs", "unweighted", "forEachBand"}
    constructors = {n.split(".", 1)[1] for n in registry.names() if n.startswith("Reducer.")}
    assert constructors - modifiers == set(SPECS)
