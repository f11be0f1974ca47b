"""File-name templates: layouts the product profiles do not know, described by the user.

`openee ingest --template "{id}_{date:%Y%m%d}_{band}.tif"` reads each file name with the
template. Placeholders:

* `{id}`: the image's `system:index`; files with the same id (and date) are bands of one image.
  Without `{id}`, the date (as written in the name) is the id.
* `{date:FORMAT}`: the start time, in `strptime` directives (`%Y %m %d %H %M %S %j %y %b`),
  read as UTC; `{date}` alone is `%Y-%m-%d`.
* `{band}`: the band name. Without it each file is one image, with bands b1..bN.
* `{NAME}`: any other name becomes a property of the image (numbers become numbers).
* `*` matches anything (a part of the name to ignore).

Other text must appear as written; the template matches the whole file name, case included.
Files that do not match are left to the product layouts, like any other file.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from openee.catalog.landsat_mtl import text_value
from openee.catalog.profiles import RASTER_SUFFIXES, BandSource, Scene, band_order
from openee.errors import InvalidArgumentError
from openee.raster.gdal import open_checked

# What each strptime directive can match in a file name (tight, so that placeholders can touch:
# "{id}{date:%Y%m%d}").
_DIRECTIVES = {
    "Y": r"\d{4}",
    "y": r"\d{2}",
    "m": r"\d{2}",
    "d": r"\d{2}",
    "H": r"\d{2}",
    "M": r"\d{2}",
    "S": r"\d{2}",
    "j": r"\d{3}",
    "b": r"[A-Za-z]{3}",
    "%": "%",
}
_PLACEHOLDER = re.compile(r"\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::(?P<format>[^{}]*))?\}")
_RESERVED = ("id", "date", "band")


@dataclass(frozen=True)
class FileNameTemplate:
    """A compiled template: the regex of a whole file name and the date's strptime format."""

    text: str
    pattern: re.Pattern[str]
    date_format: str | None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.pattern.groupindex)

    def read(self, file_name: str) -> dict[str, str] | None:
        match = self.pattern.fullmatch(file_name)
        return None if match is None else match.groupdict()


def _date_regex(fmt: str, template: str) -> str:
    out, i = [], 0
    while i < len(fmt):
        if fmt[i] == "%":
            directive = fmt[i + 1 : i + 2]
            if directive not in _DIRECTIVES:
                raise InvalidArgumentError(
                    f"Template '{template}': date directive '%{directive}' is not supported"
                    f" (use {' '.join('%' + d for d in _DIRECTIVES if d != '%')})."
                )
            out.append(_DIRECTIVES[directive])
            i += 2
        else:
            out.append(re.escape(fmt[i]))
            i += 1
    return "".join(out)


def compile_template(text: str) -> FileNameTemplate:
    """Compile `--template`; a template that cannot work is an InvalidArgumentError."""
    parts: list[str] = []
    seen: list[str] = []
    date_format = None
    position = 0
    for match in _PLACEHOLDER.finditer(text):
        parts.append(_literal(text[position : match.start()], text))
        name, fmt = match["name"], match["format"]
        if name in seen:
            raise InvalidArgumentError(f"Template '{text}': {{{name}}} appears twice.")
        seen.append(name)
        if name == "date":
            date_format = fmt or "%Y-%m-%d"
            parts.append(f"(?P<date>{_date_regex(date_format, text)})")
        elif fmt:
            raise InvalidArgumentError(
                f"Template '{text}': only {{date}} takes a format, not {{{name}:{fmt}}}."
            )
        else:
            parts.append(f"(?P<{name}>.+?)")
        position = match.end()
    parts.append(_literal(text[position:], text))
    if "id" not in seen and "date" not in seen:
        raise InvalidArgumentError(
            f"Template '{text}' needs {{id}} or {{date}} to tell images apart."
        )
    return FileNameTemplate(text, re.compile("".join(parts)), date_format)


def _literal(text: str, template: str) -> str:
    if "{" in text or "}" in text:
        raise InvalidArgumentError(
            f"Template '{template}': unbalanced or invalid placeholder near '{text}'"
            " (placeholders are {name} or {date:FORMAT})."
        )
    return ".*?".join(re.escape(piece) for piece in text.split("*"))


@dataclass(frozen=True)
class TemplateLayout:
    """Raster files whose names match a user's template (see the module docstring)."""

    template: FileNameTemplate
    name: str = "template"

    def claim(self, files: Sequence[Path]) -> tuple[list[Scene], list[Path]]:
        groups: dict[tuple[str, int | None], list[tuple[dict[str, str], Path]]] = {}
        rest: list[Path] = []
        for path in files:
            fields = self.template.read(path.name)
            if fields is None or path.suffix.lower() not in RASTER_SUFFIXES:
                rest.append(path)
                continue
            when = self._time(fields, path)
            index = fields.get("id") or fields["date"]
            groups.setdefault((index, when), []).append((fields, path))
        scenes = [self._scene(index, when, members) for (index, when), members in groups.items()]
        scenes.sort(key=lambda s: (s.time_start is None, s.time_start or 0, s.index))
        for index, count in Counter(s.index for s in scenes).items():
            if count > 1:
                raise InvalidArgumentError(
                    f"Template '{self.template.text}': image '{index}' has files with different"
                    " dates; put {date} in the id or give each date its own id."
                )
        return scenes, rest

    def _time(self, fields: dict[str, str], path: Path) -> int | None:
        if self.template.date_format is None:
            return None
        try:
            parsed = datetime.strptime(fields["date"], self.template.date_format)
        except ValueError:
            raise InvalidArgumentError(
                f"{path.name}: '{fields['date']}' is not a date in the format"
                f" '{self.template.date_format}' of the template."
            ) from None
        return int(parsed.replace(tzinfo=UTC).timestamp() * 1000)

    def _scene(
        self, index: str, when: int | None, members: list[tuple[dict[str, str], Path]]
    ) -> Scene:
        properties: dict[str, object] = {}
        bands: list[BandSource] = []
        for fields, path in members:
            for key, value in fields.items():
                if key not in _RESERVED:
                    properties.setdefault(key, text_value(value))
            band = fields.get("band")
            with open_checked(path) as src:
                count = src.count
            if band is None:
                bands.extend(BandSource(f"b{i}", path, i) for i in range(1, count + 1))
            elif count == 1:
                bands.append(BandSource(band, path))
            else:
                bands.extend(BandSource(f"{band}_{i}", path, i) for i in range(1, count + 1))
        for name, count in Counter(b.name for b in bands).items():
            if count > 1:
                raise InvalidArgumentError(
                    f"Template '{self.template.text}': image '{index}' has band '{name}' twice"
                    " (is {band} in the template?)."
                )
        bands.sort(key=lambda b: band_order(b.name))
        return Scene(index, when, tuple(bands), properties)
