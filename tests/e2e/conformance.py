"""Conformance facts: Earth Engine's documented (input -> output) pairs, checked through the client.

Earth Engine publishes one runnable sample per algorithm (google/earthengine-community,
samples/python/apidocs and samples/javascript/apidocs), most with the printed output in a comment.
A `Fact` holds one such pair: the sample file it comes from, a function building the expression
with the stock `ee` module (our own code, from the documented inputs) and the documented output.
A family's facts are evaluated in one `getInfo` (an `ee.List` of all of them), so a table of a
hundred facts costs one request; a failing fact is then retried alone, so one error does not hide
the others.

Documented numbers are printed to a fixed precision (usually nine decimals, truncated), so a
`Printed` value carries the tolerance its printed form implies. Earth Engine's non-finite results
(`Infinity`, `NaN`) arrive as JSON `null` from openee, as they cannot be written in JSON.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

INF = math.inf
NAN = math.nan


@dataclass(frozen=True)
class Printed:
    """A number as a sample prints it, e.g. ``Printed("0.490196078")`` or ``"1.2e-35"``."""

    text: str
    # A wider tolerance where Earth Engine's own printed value is off in its last digits.
    within: float | None = None

    @property
    def value(self) -> float:
        return float(self.text)

    def matches(self, got: object) -> bool:
        if isinstance(got, bool) or not isinstance(got, int | float):
            return False
        mantissa, _, exponent = self.text.lower().partition("e")
        decimals = len(mantissa.partition(".")[2])
        step = 10.0**-decimals
        if exponent:
            step *= 10.0 ** int(exponent)
        if self.within is not None:
            return abs(got - self.value) <= self.within
        # Samples truncate as often as they round: allow one unit of the last printed digit.
        return abs(got - self.value) <= step * 1.0000001 + 1e-15 * abs(self.value)


@dataclass(frozen=True)
class Fact:
    """One documented input/output pair of an Earth Engine sample."""

    sample: str
    build: Callable[[Any], Any]
    want: object
    # The part of the computed value the sample prints (e.g. a kernel's weights), if not all.
    view: Callable[[Any], object] | None = None


def ids(facts: Sequence[Fact]) -> list[str]:
    """Test ids naming each fact's sample and its place among that sample's facts."""
    seen: dict[str, int] = {}
    out = []
    for fact in facts:
        n = seen.get(fact.sample, 0)
        seen[fact.sample] = n + 1
        out.append(f"{fact.sample.rsplit('.', 1)[0]}-{n}")
    return out


def evaluate(ee: Any, facts: Sequence[Fact]) -> list[object]:
    """Every fact's computed value, in one request; a fact that fails gets its exception."""
    try:
        return list(ee.List([fact.build(ee) for fact in facts]).getInfo())
    except ee.EEException:
        pass
    out: list[object] = []
    for fact in facts:
        try:
            out.append(ee.List([fact.build(ee)]).getInfo()[0])
        except ee.EEException as exc:
            out.append(exc)
    return out


def matches(got: object, want: object) -> bool:
    """Whether a computed value equals a documented one (numbers within printed precision)."""
    if isinstance(want, Printed):
        return want.matches(got)
    if isinstance(want, float) and not math.isfinite(want):
        return got is None
    if isinstance(want, bool):
        return got is want
    if isinstance(want, int | float):
        if isinstance(got, bool) or not isinstance(got, int | float):
            return False
        return math.isclose(got, want, rel_tol=1e-12, abs_tol=1e-12)
    if isinstance(want, list | tuple):
        return (
            isinstance(got, list)
            and len(got) == len(want)
            and all(matches(g, w) for g, w in zip(got, want, strict=True))
        )
    if isinstance(want, dict):
        return (
            isinstance(got, dict)
            and got.keys() == want.keys()
            and all(matches(got[k], w) for k, w in want.items())
        )
    return got == want


def check(fact: Fact, got: object) -> None:
    """Assert one fact, naming its sample on failure."""
    if isinstance(got, Exception):
        raise AssertionError(f"{fact.sample}: expected {fact.want!r}, got error {got}")
    if fact.view is not None:
        got = fact.view(got)
    assert matches(got, fact.want), f"{fact.sample}: expected {fact.want!r}, got {got!r}"
