"""Joins as data: what `Join.apply` does with the matches of each primary element."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Join:
    """One of Earth Engine's joins; `kind` names its constructor ('simple', 'saveAll', ...).

    `match_key` is saveFirst's and saveBest's matchKey, saveAll's matchesKey; `primary_key` and
    `secondary_key` are inner's; `measure_key` is where a match's measure is stored, if anywhere.
    """

    kind: str
    match_key: str | None = None
    ordering: str | None = None
    ascending: bool = True
    measure_key: str | None = None
    outer: bool = False
    primary_key: str = "primary"
    secondary_key: str = "secondary"

    def info(self) -> dict[str, object]:
        return {"type": "Join", "join": self.kind}
