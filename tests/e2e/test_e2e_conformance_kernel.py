"""ee.Kernel conformance: the weight matrices Earth Engine's apidocs samples print, radius 3.

The samples (google/earthengine-community samples/python/apidocs/ee_kernel_*.py) print weights
"up to 1/1000 precision for brevity" (some 1/100): those rows allow one unit of the printed digit.
ee_kernel_gaussian.py prints a 5x5 matrix for radius 3, normalized over those 25 pixels (the
Gaussian spans the pixels strictly inside its radius; ADR 0039). See tests/e2e/conformance.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from conformance import Fact, Printed, check, evaluate, ids

pytestmark = pytest.mark.e2e


def K(name: str) -> str:
    return f"ee_kernel_{name}.py"


def _weights(info: Any) -> object:
    return info["weights"]


def printed(rows: list[str]) -> list[list[Printed]]:
    """A matrix as a sample prints it, one string per row: '0.000, 0.034, ...'."""
    return [[Printed(v.strip()) for v in row.split(",")] for row in rows]


CHEBYSHEV_3 = [[max(abs(x), abs(y)) for x in range(-3, 4)] for y in range(-3, 4)]

FACTS: list[Fact] = [
    Fact(
        K("add"),
        lambda ee: ee.Kernel.chebyshev(radius=ee.Number(3)).add(
            ee.Kernel.square(radius=1, normalize=False, magnitude=100)
        ),
        [
            [3, 3, 3, 3, 3, 3, 3],
            [3, 2, 2, 2, 2, 2, 3],
            [3, 2, 101, 101, 101, 2, 3],
            [3, 2, 101, 100, 101, 2, 3],
            [3, 2, 101, 101, 101, 2, 3],
            [3, 2, 2, 2, 2, 2, 3],
            [3, 3, 3, 3, 3, 3, 3],
        ],
        _weights,
    ),
    Fact(K("chebyshev"), lambda ee: ee.Kernel.chebyshev(radius=3), CHEBYSHEV_3, _weights),
    Fact(
        K("circle"),
        lambda ee: ee.Kernel.circle(radius=3),
        printed(
            [
                "0.000, 0.000, 0.000, 0.034, 0.000, 0.000, 0.000",
                "0.000, 0.034, 0.034, 0.034, 0.034, 0.034, 0.000",
                "0.000, 0.034, 0.034, 0.034, 0.034, 0.034, 0.000",
                "0.034, 0.034, 0.034, 0.034, 0.034, 0.034, 0.034",
                "0.000, 0.034, 0.034, 0.034, 0.034, 0.034, 0.000",
                "0.000, 0.034, 0.034, 0.034, 0.034, 0.034, 0.000",
                "0.000, 0.000, 0.000, 0.034, 0.000, 0.000, 0.000",
            ]
        ),
        _weights,
    ),
    Fact(
        K("compass"),
        lambda ee: ee.Kernel.compass(),
        [[1, 1, -1], [1, -2, -1], [1, 1, -1]],
        _weights,
    ),
    Fact(
        K("cross"),
        lambda ee: ee.Kernel.cross(radius=3),
        printed(
            [
                "0.076, 0.000, 0.000, 0.000, 0.000, 0.000, 0.076",
                "0.000, 0.076, 0.000, 0.000, 0.000, 0.076, 0.000",
                "0.000, 0.000, 0.076, 0.000, 0.076, 0.000, 0.000",
                "0.000, 0.000, 0.000, 0.076, 0.000, 0.000, 0.000",
                "0.000, 0.000, 0.076, 0.000, 0.076, 0.000, 0.000",
                "0.000, 0.076, 0.000, 0.000, 0.000, 0.076, 0.000",
                "0.076, 0.000, 0.000, 0.000, 0.000, 0.000, 0.076",
            ]
        ),
        _weights,
    ),
    Fact(
        K("diamond"),
        lambda ee: ee.Kernel.diamond(radius=3),
        printed(
            [
                "0.00, 0.00, 0.00, 0.04, 0.00, 0.00, 0.00",
                "0.00, 0.00, 0.04, 0.04, 0.04, 0.00, 0.00",
                "0.00, 0.04, 0.04, 0.04, 0.04, 0.04, 0.00",
                "0.04, 0.04, 0.04, 0.04, 0.04, 0.04, 0.04",
                "0.00, 0.04, 0.04, 0.04, 0.04, 0.04, 0.00",
                "0.00, 0.00, 0.04, 0.04, 0.04, 0.00, 0.00",
                "0.00, 0.00, 0.00, 0.04, 0.00, 0.00, 0.00",
            ]
        ),
        _weights,
    ),
    Fact(
        K("euclidean"),
        lambda ee: ee.Kernel.euclidean(radius=3),
        printed(
            [
                "4.242, 3.605, 3.162, 3.000, 3.162, 3.605, 4.242",
                "3.605, 2.828, 2.236, 2.000, 2.236, 2.828, 3.605",
                "3.162, 2.236, 1.414, 1.000, 1.414, 2.236, 3.162",
                "3.000, 2.000, 1.000, 0.000, 1.000, 2.000, 3.000",
                "3.162, 2.236, 1.414, 1.000, 1.414, 2.236, 3.162",
                "3.605, 2.828, 2.236, 2.000, 2.236, 2.828, 3.605",
                "4.242, 3.605, 3.162, 3.000, 3.162, 3.605, 4.242",
            ]
        ),
        _weights,
    ),
    Fact(
        K("fixed"),
        lambda ee: ee.Kernel.fixed(weights=[[4, 3, 2, 1, 2, 3, 4]] * 3),
        [[4, 3, 2, 1, 2, 3, 4]] * 3,
        _weights,
    ),
    Fact(
        K("gaussian"),
        lambda ee: ee.Kernel.gaussian(radius=3),
        printed(
            [
                "0.002, 0.013, 0.021, 0.013, 0.002",
                "0.013, 0.059, 0.098, 0.059, 0.013",
                "0.021, 0.098, 0.162, 0.098, 0.021",
                "0.013, 0.059, 0.098, 0.059, 0.013",
                "0.002, 0.013, 0.021, 0.013, 0.002",
            ]
        ),
        _weights,
    ),
    Fact(
        K("inverse"), lambda ee: ee.Kernel.sobel(), [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], _weights
    ),
    Fact(
        K("inverse"),
        lambda ee: ee.Kernel.sobel().inverse(),
        [[-1.0, 0.0, 1.0], [-0.5, 0.0, 0.5], [-1.0, 0.0, 1.0]],
        _weights,
    ),
    Fact(
        K("kirsch"), lambda ee: ee.Kernel.kirsch(), [[5, -3, -3], [5, 0, -3], [5, -3, -3]], _weights
    ),
    Fact(
        K("laplacian4"),
        lambda ee: ee.Kernel.laplacian4(),
        [[0, 1, 0], [1, -4, 1], [0, 1, 0]],
        _weights,
    ),
    Fact(
        K("laplacian8"),
        lambda ee: ee.Kernel.laplacian8(),
        [[1, 1, 1], [1, -8, 1], [1, 1, 1]],
        _weights,
    ),
    Fact(
        K("manhattan"),
        lambda ee: ee.Kernel.manhattan(radius=3),
        [[abs(x) + abs(y) for x in range(-3, 4)] for y in range(-3, 4)],
        _weights,
    ),
    Fact(
        K("octagon"),
        lambda ee: ee.Kernel.octagon(radius=3),
        printed(
            [
                "0.000, 0.000, 0.027, 0.027, 0.027, 0.000, 0.000",
                "0.000, 0.027, 0.027, 0.027, 0.027, 0.027, 0.000",
                "0.027, 0.027, 0.027, 0.027, 0.027, 0.027, 0.027",
                "0.027, 0.027, 0.027, 0.027, 0.027, 0.027, 0.027",
                "0.027, 0.027, 0.027, 0.027, 0.027, 0.027, 0.027",
                "0.000, 0.027, 0.027, 0.027, 0.027, 0.027, 0.000",
                "0.000, 0.000, 0.027, 0.027, 0.027, 0.000, 0.000",
            ]
        ),
        _weights,
    ),
    Fact(
        K("plus"),
        lambda ee: ee.Kernel.plus(radius=3),
        printed(
            ["0.000, 0.000, 0.000, 0.076, 0.000, 0.000, 0.000"] * 3
            + ["0.076, 0.076, 0.076, 0.076, 0.076, 0.076, 0.076"]
            + ["0.000, 0.000, 0.000, 0.076, 0.000, 0.000, 0.000"] * 3
        ),
        _weights,
    ),
    Fact(
        K("prewitt"), lambda ee: ee.Kernel.prewitt(), [[1, 0, -1], [1, 0, -1], [1, 0, -1]], _weights
    ),
    Fact(
        K("rectangle"),
        lambda ee: ee.Kernel.rectangle(xRadius=2, yRadius=1),
        printed(["0.066, 0.066, 0.066, 0.066, 0.066"] * 3),
        _weights,
    ),
    Fact(K("roberts"), lambda ee: ee.Kernel.roberts(), [[1, 0], [0, -1]], _weights),
    # "center is position [1,1]"
    Fact(K("roberts"), lambda ee: ee.Kernel.roberts(), [1, 1], lambda info: [info["x"], info["y"]]),
    Fact(
        K("rotate"),
        lambda ee: ee.Kernel.sobel().rotate(1),
        [[-1, -2, -1], [0, 0, 0], [1, 2, 1]],
        _weights,
    ),
    Fact(
        K("rotate"),
        lambda ee: ee.Kernel.sobel().rotate(-2),
        [[1, 0, -1], [2, 0, -2], [1, 0, -1]],
        _weights,
    ),
    Fact(K("sobel"), lambda ee: ee.Kernel.sobel(), [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], _weights),
    Fact(
        K("square"),
        lambda ee: ee.Kernel.square(radius=3),
        printed(["0.02, 0.02, 0.02, 0.02, 0.02, 0.02, 0.02"] * 7),
        _weights,
    ),
]


@pytest.fixture(scope="module")
def results(ee_api) -> list[object]:
    return evaluate(ee_api, FACTS)


@pytest.mark.parametrize("index", range(len(FACTS)), ids=ids(FACTS))
def test_kernel_fact(results, index: int) -> None:
    check(FACTS[index], results[index])
