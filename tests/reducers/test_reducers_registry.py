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
from openee.algorithms.aggregate import KERNELS as AGGREGATE_KERNELS
from openee.reducers.registry import SPECS, Context, names_in

SRC = Path(__file__).resolve().parents[2] / "src" / "openee"
REGISTRY = SRC / "reducers"  # the registry, its kernels and order statistics

# Modules that still name reducers, with how many literals each may hold. Kernel dispatch not
# yet moved onto the specs (issue 14, item 1, what remains) and strings that are reducer names
# by coincidence (the expression operators 'min'/'and'/'or', Number.* names, band names such as
# 'count', pixel types, visualization options).
REMAINING = {
    "algorithms/aggregate.py": 53,  # the list kernels, keyed by name
    "algorithms/reducers.py": 37,  # constructors' outputs ('p10', 'histogram', combinators)
    "algorithms/feature_collection.py": 20,  # aggregate_stats' keys
    "algorithms/image_reduce.py": 17,  # the region fast paths
    "algorithms/aggregate_matrix.py": 17,  # matrix kernels and split weights
    "algorithms/image_collection.py": 15,  # the collection shortcuts (mean(), median(), ...)
    "algorithms/array_structure.py": 9,  # Array.reduce/accum output types
    "algorithms/interpolation.py": 2,  # the default reducer (mean)
    "algorithms/number.py": 9,  # Number.min, Number.and, ... (not reducers)
    "algorithms/expression.py": 8,  # expression operators (not reducers)
    "raster/bandmath.py": 8,  # band math operators (not reducers)
    "algorithms/image_array.py": 7,  # array-axis outputs
    "algorithms/kernel.py": 5,  # neighbourhood operations
    "values/reducer.py": 5,  # combinators' input counts (values/ is below the registry)
    "algorithms/aggregate_weighted.py": 5,  # combinators
    "algorithms/image_vectors.py": 4,  # reduceToVectors' count
    "algorithms/image_visualize.py": 4,  # visualization options (not reducers)
    "raster/pixeltype.py": 4,  # pixel types (not reducers)
    "algorithms/image_alias.py": 2,
    "algorithms/image_math.py": 2,
    "algorithms/pixel_type.py": 2,
    "encode/visualize.py": 2,
    "algorithms/array_math.py": 1,
    "encode/formats.py": 1,
    "raster/landsat.py": 1,
    "values/classifier.py": 1,
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
    assert set(AGGREGATE_KERNELS) == set(names_in(Context.AGGREGATE))
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
