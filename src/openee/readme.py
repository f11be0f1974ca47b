"""The README's generated tables: supported algorithms (from the registry), output formats, and
the settings (from their declarations in `openee.settings`).

`python -m openee.readme` rewrites the parts of README.md between the markers; a test checks
that the README matches, so the tables are never maintained by hand.
"""

from __future__ import annotations

import re
import sys
from collections import defaultdict
from pathlib import Path

from openee.algorithms import default_registry
from openee.algorithms.registry import ee_signatures
from openee.algorithms.unserved import REASONS
from openee.encode.formats import FORMATS, NOT_YET
from openee.encode.tables import FORMATS as TABLE_FORMATS
from openee.settings import declared

START, END = "<!-- generated:start -->", "<!-- generated:end -->"
SETTINGS_START, SETTINGS_END = "<!-- settings:start -->", "<!-- settings:end -->"


def settings_table() -> str:
    lines = ["| variable | default | what it sets |", "|---|---|---|"]
    lines += [f"| `{env}` | {default} | {doc} |" for env, default, doc in declared()]
    return "\n".join(lines)


def _family(name: str) -> str:
    return name.split(".")[0] if "." in name else name


def tables() -> str:
    served = default_registry().names()
    by_family: dict[str, list[str]] = defaultdict(list)
    for name in served:
        by_family[_family(name)].append(name)
    totals: dict[str, int] = defaultdict(int)
    for name in ee_signatures():
        totals[_family(name)] += 1
    lines = [
        f"{len(served)} of Earth Engine's {len(ee_signatures())} algorithms are served.",
        "",
        "| family | served | of | algorithms |",
        "|---|---|---|---|",
    ]
    for family in sorted(by_family):
        names = ", ".join(f"`{n.split('.', 1)[-1]}`" for n in by_family[family])
        lines.append(f"| {family} | {len(by_family[family])} | {totals[family]} | {names} |")
    lines += ["", "Not served, and why:", "", "| algorithm | reason |", "|---|---|"]
    for name in sorted(REASONS):
        lines.append(f"| `{name}` | {REASONS[name]} |")
    lines += ["", "| fileFormat | media type |", "|---|---|"]
    for key, fmt in FORMATS.items():
        lines.append(f"| `{key}` | {fmt.media_type} |")
    for key in sorted(NOT_YET):
        lines.append(f"| `{key}` | not yet (501 UNIMPLEMENTED) |")
    lines += ["", "| table fileFormat (`getDownloadURL`) | media type |", "|---|---|"]
    for key, table in TABLE_FORMATS.items():
        lines.append(f"| `{key}` | {table.media_type} |")
    return "\n".join(lines)


def render(readme: str) -> str:
    for start, end, make in ((START, END, tables), (SETTINGS_START, SETTINGS_END, settings_table)):
        pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.DOTALL)
        if not pattern.search(readme):
            raise ValueError(f"README.md has no {start} ... {end} markers")
        section = f"{start}\n{make()}\n{end}"
        readme = pattern.sub(lambda _: section, readme)  # noqa: B023 - used at once
    return readme


def main() -> int:
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "README.md")
    path.write_text(render(path.read_text()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
