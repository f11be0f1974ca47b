"""The README's algorithm and format tables are generated, never hand-maintained."""

from __future__ import annotations

from pathlib import Path

from openee.readme import algorithms_index, index_path, render

README = Path(__file__).parents[1] / "README.md"


def test_readme_tables_match_the_registry() -> None:
    text = README.read_text()
    assert render(text) == text, "README.md is stale: run `make readme`"


def test_the_algorithm_index_is_current_and_points_at_real_modules() -> None:
    index = index_path(README)
    assert index.read_text() == algorithms_index(), "docs/algorithms.md is stale: `make readme`"
    rows = [line for line in index.read_text().splitlines() if line.startswith("| `")]
    assert len(rows) > 800
    for row in rows:
        module = row.split("|")[2].strip().strip("`")
        assert (README.parent / "src" / module).is_file(), row
