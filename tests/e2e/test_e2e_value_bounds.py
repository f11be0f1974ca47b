"""Expression size bombs: a small request asking for an enormous value is a clear 400 before
the server builds it (or within twice the bound, for doubling), and the server keeps serving."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e

LIMIT_MESSAGE = "User memory limit exceeded"


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
def test_a_value_bomb_is_refused(ee_api, bomb) -> None:
    ee = ee_api
    with pytest.raises(ee.EEException, match=LIMIT_MESSAGE):
        bomb(ee).getInfo()


def test_values_within_the_bound_are_built(ee_api) -> None:
    ee = ee_api
    assert _doubled(ee.List([0]), 20).size().getInfo() == 2**20
    nested = ee.List.repeat(ee.List.repeat(1, 300), 300)
    assert nested.flatten().size().getInfo() == 90_000
    assert len(nested.getInfo()) == 300
