"""The reducer registry is the one table of reducer names (docs/decisions/0038, 0053).

- A scan of src/ for string literals equal to a reducer name: none outside openee.reducers (the
  registry, its kernels and constructors), except the words listed in COINCIDENCES, which name
  something else that happens to be spelled like a reducer (an operator, a wire key, an argument).
  Contexts ask the specs (kernels, flags) instead of comparing names.
- Every context's kernels are on the specs: a reducer runs where it has a kernel.
- Every reducer constructor of the algorithm registry builds a reducer the registry knows.
"""

from __future__ import annotations

import ast
from pathlib import Path

from openee.algorithms import default_registry
from openee.reducers.registry import SPECS, Context, names_in

SRC = Path(__file__).resolve().parents[2] / "src" / "openee"
REGISTRY = "reducers"  # the package of the registry, its kernels and constructors

# Strings spelled like a reducer that name something else: module -> (literals, what they are).
# Exactly these: a module that loses one lowers its count, a new one fails.
COINCIDENCES: dict[str, tuple[int, str]] = {
    "algorithms/number.py": (9, "Number.min/max/and/or/first/bitwiseAnd/... algorithm names"),
    "algorithms/expression.py": (8, "expression operators and functions (min, max, ||, &&)"),
    "raster/bandmath.py": (8, "band math operators of Image.min/max/and/or/first/bitwiseAnd"),
    "algorithms/feature_collection.py": (
        8,
        "aggregate_first/count/min/max (no reducer: any values, in Earth Engine's order) and "
        "the keys of aggregate_stats' documented dictionary",
    ),
    "algorithms/image_visualize.py": (4, "visualization parameters min, max"),
    "raster/pixeltype.py": (4, "the min/max keys of a PixelType's wire form"),
    "api/export_options.py": (3, "pyramiding policies MODE/MIN/MAX as GDAL's resampling names"),
    "api/requests.py": (2, "visualization parameters min, max"),
    "services/export_image.py": (1, "rasterio's band count"),
    "algorithms/image_math.py": (2, "Image.clamp's min and max band operators"),
    "values/pixel_type.py": (2, "the min/max keys of a PixelType's wire form"),
    "values/classifier_document.py": (2, "a classifier's output mode"),
    "algorithms/array_math.py": (1, "Array.first, the binary operator"),
    "algorithms/interpolation.py": (1, "kriging's stdDev argument"),
    "encode/formats.py": (1, "rasterio's band count"),
    "values/classifier.py": (1, "a classifier's output mode"),
}


def literals(root: Path, names: set[str]) -> dict[str, list[int]]:
    """For each module under `root` outside the registry's package, the lines of its string
    literals equal to one of `names` (docstrings and comments are not literals of this kind:
    a docstring is one string, never just a name)."""
    found: dict[str, list[int]] = {}
    for path in sorted(root.rglob("*.py")):
        module = path.relative_to(root).as_posix()
        if module.split("/")[0] == REGISTRY:
            continue
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and node.value in names
            ):
                found.setdefault(module, []).append(node.lineno)
    return found


def violations(root: Path, names: set[str], allowed: dict[str, tuple[int, str]]) -> list[str]:
    """Modules whose reducer-name literals are not exactly their allowed coincidences."""
    found = literals(root, names)
    out = []
    for module in sorted(found.keys() | allowed.keys()):
        lines = sorted(found.get(module, []))
        expected = allowed.get(module, (0, ""))[0]
        if len(lines) != expected:
            out.append(
                f"{module}: {len(lines)} reducer-name literals (lines {lines}), {expected} allowed"
            )
    return out


def test_reducer_names_live_in_the_registry() -> None:
    assert violations(SRC, set(SPECS), COINCIDENCES) == [], (
        "name reducers through openee.reducers (ask the spec), not string literals; "
        "update COINCIDENCES only for a word that names something else"
    )


def test_the_checker_catches_a_reducer_name_outside_the_registry(tmp_path: Path) -> None:
    (tmp_path / "reducers").mkdir()
    (tmp_path / "reducers" / "registry.py").write_text('SPECS = {"median": 1}\n')
    (tmp_path / "context.py").write_text(
        '"""The median of the inputs."""\nif reducer.name == "median":\n    pass\n'
    )
    (tmp_path / "table.py").write_text('KERNELS = {"mean": 1,\n "median": 2}\n')
    (tmp_path / "ops.py").write_text('OPS = {"mean": 1}\n')
    allowed = {"ops.py": (1, "an operator"), "gone.py": (1, "removed since")}
    assert violations(tmp_path, {"mean", "median"}, allowed) == [
        "context.py: 1 reducer-name literals (lines [2]), 0 allowed",
        "gone.py: 0 reducer-name literals (lines []), 1 allowed",
        "table.py: 2 reducer-name literals (lines [1, 2]), 0 allowed",
    ]
    assert literals(tmp_path, {"mean", "median"})["table.py"] == [1, 2]


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
