"""The README's algorithm and format tables are generated, never hand-maintained."""

from __future__ import annotations

from pathlib import Path

from openee.readme import render

README = Path(__file__).parents[1] / "README.md"


def test_readme_tables_match_the_registry() -> None:
    text = README.read_text()
    assert render(text) == text, "README.md is stale: run `make readme`"
