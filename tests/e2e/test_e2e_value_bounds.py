"""Expression size bombs: a small request asking for an enormous value is a clear 400 before
the server builds it (or within twice the bound, for doubling), the server's memory stays
bounded while it answers, and it keeps serving."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

LIMIT_MESSAGE = "User memory limit exceeded"
# The server's peak resident memory may grow by at most this much while it refuses one bomb.
# The value bound is 10 million elements; List.cat doubling peaks highest (measured 394 MiB:
# the memoized halves, 8M + 4M + ... elements, plus the copies argument coercion makes of the
# last two 8M inputs before the count is refused); unbounded, any of these takes gigabytes.
GROWTH_BOUND = 640 * 2**20


def _kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} for process {pid}")


def _reset_peak(pid: int) -> None:
    """Start VmHWM again from the current resident size (Linux, own processes)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def _doubled(start, times: int):
    value = start
    for _ in range(times):
        value = value.cat(value)
    return value


@pytest.mark.parametrize(
    "bomb",
    [
        lambda ee: _doubled(ee.List([0]), 40).size(),  # 2^40 elements
        lambda ee: _doubled(ee.String("ab"), 40).length(),  # 2^41 characters
        lambda ee: ee.List.repeat(ee.List.repeat(1, 100_000), 100_000).flatten().size(),
        lambda ee: ee.List.repeat(ee.List.repeat(1, 100_000), 100_000),  # 1e10 as JSON
        lambda ee: ee.List.repeat(0, 10**12).size(),
        lambda ee: ee.List.sequence(0, None, 1, 10**12).size(),
    ],
    ids=["list-cat-doubling", "string-cat-doubling", "flatten-repeat", "nested-getinfo",
         "repeat", "sequence"],
)  # fmt: skip
def test_a_value_bomb_is_refused(ee_api, server, bomb) -> None:
    ee = ee_api
    assert ee.List([1, 2]).cat(ee.List([3])).size().getInfo() == 3  # first-use costs aside
    _reset_peak(server.pid)
    before = _kib(server.pid, "VmRSS") * 1024
    with pytest.raises(ee.EEException, match=LIMIT_MESSAGE):
        bomb(ee).getInfo()
    peak = _kib(server.pid, "VmHWM") * 1024
    assert peak - before < GROWTH_BOUND, f"the server grew by {(peak - before) >> 20} MiB"
    assert ee.Number(1).add(1).getInfo() == 2  # and keeps serving


def test_values_within_the_bound_are_built(ee_api) -> None:
    ee = ee_api
    assert _doubled(ee.List([0]), 20).size().getInfo() == 2**20
    nested = ee.List.repeat(ee.List.repeat(1, 300), 300)
    assert nested.flatten().size().getInfo() == 90_000
    assert len(nested.getInfo()) == 300
