"""The layers of docs/decisions/0036: a package imports only from layers below its own (and
from itself); siblings in one layer do not import each other. ruff's banned-api rule
(pyproject.toml) keeps FastAPI and Starlette inside openee.api."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src" / "openee"

# Top to bottom. The first part of a module's name below `openee` decides its package.
LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"__main__"}),
    frozenset({"cli"}),
    frozenset({"commands", "readme"}),
    frozenset({"api"}),
    frozenset({"bootstrap"}),
    frozenset({"services"}),
    frozenset({"graph", "auth"}),
    frozenset({"algorithms"}),
    frozenset({"engine"}),
    frozenset({"catalog", "encode"}),
    frozenset({"raster"}),
    frozenset({"reducers"}),
    frozenset({"values"}),
    frozenset({"statedb"}),
    frozenset({"errors", "settings", "dbfile", "demo", ""}),  # "" is openee/__init__.py
)


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _layer(package: str) -> int:
    for i, layer in enumerate(LAYERS):
        if package in layer:
            return i
    raise AssertionError(f"openee.{package} is in no layer: add it to LAYERS")


def violations(root: Path) -> list[str]:
    """Every import of an openee package that is not below the importing module's layer."""
    found = []
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root.parent).with_suffix("").parts
        module = ".".join(p for p in parts if p != "__init__")
        source = _package(module)
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                if name != "openee" and not name.startswith("openee."):
                    continue
                target = _package(name)
                if target != source and _layer(target) <= _layer(source):
                    found.append(f"{module} imports {name} (line {node.lineno})")
    return found


def test_openee_keeps_its_layers() -> None:
    assert violations(SRC) == []


def test_the_checker_reports_an_upward_import(tmp_path: Path) -> None:
    package = tmp_path / "openee"
    (package / "raster").mkdir(parents=True)
    (package / "api").mkdir()
    (package / "raster" / "bad.py").write_text("from openee.api.app import create_app\n")
    (package / "api" / "good.py").write_text("from openee.raster import grid\n")
    assert violations(package) == ["openee.raster.bad imports openee.api.app (line 1)"]


def test_the_checker_reports_a_sibling_import(tmp_path: Path) -> None:
    (tmp_path / "openee" / "catalog").mkdir(parents=True)
    (tmp_path / "openee" / "catalog" / "x.py").write_text("import openee.encode.formats\n")
    assert violations(tmp_path / "openee") == [
        "openee.catalog.x imports openee.encode.formats (line 1)"
    ]


def test_ruff_bans_web_imports_below_the_api() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "ruff",
            "check",
            "--stdin-filename",
            "src/openee/raster/web.py",
            "-",
        ],
        input="from fastapi.responses import Response\n\nResponse()\n",
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert result.returncode == 1
    assert "TID251" in result.stdout and "FastAPI belongs in openee.api only" in result.stdout
