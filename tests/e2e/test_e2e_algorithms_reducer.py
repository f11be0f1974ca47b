"""Reducers, as data, applied with List.reduce and reduceColumns through the stock client.

Oracles: statistics, numpy, and direct formulas written out here.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections import Counter

import numpy as np
import pytest

pytestmark = pytest.mark.e2e

VALUES = [4.0, 1.0, 7.5, 3.0, 3.0, 9.0, 2.5, 3.0, 8.0, 6.0]
XS = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]
YS = [2.1, 3.9, 6.2, 8.1, 9.7, 12.4, 13.8]


def near(got: object, want: object) -> bool:
    """Recursive equality with a relative tolerance for numbers."""
    if isinstance(want, dict):
        return (
            isinstance(got, dict)
            and got.keys() == want.keys()
            and all(near(got[k], want[k]) for k in want)
        )
    if isinstance(want, list | tuple):
        return (
            isinstance(got, list)
            and len(got) == len(want)
            and all(near(g, w) for g, w in zip(got, want, strict=True))
        )
    if isinstance(want, int | float | np.floating) and not isinstance(want, bool):
        return isinstance(got, int | float) and math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-12)
    return got == want


def _reduce_all(ee, reducers: dict, values: list) -> dict:
    """Reduce the same list with several reducers in one request."""
    return ee.Dictionary({k: ee.List(values).reduce(r) for k, r in reducers.items()}).getInfo()


def test_single_input_reducers(ee_api) -> None:
    ee = ee_api
    R = ee.Reducer
    got = _reduce_all(
        ee,
        {
            "mean": R.mean(),
            "sum": R.sum(),
            "product": R.product(),
            "count": R.count(),
            "countEvery": R.countEvery(),
            "first": R.first(),
            "last": R.last(),
            "firstNonNull": R.firstNonNull(),
            "lastNonNull": R.lastNonNull(),
            "min": R.min(),
            "max": R.max(),
            "minMax": R.minMax(),
            "median": R.median(),
            "mode": R.mode(),
            "stdDev": R.stdDev(),
            "variance": R.variance(),
            "sampleStdDev": R.sampleStdDev(),
            "sampleVariance": R.sampleVariance(),
            "skew": R.skew(),
            "kurtosis": R.kurtosis(),
            "countDistinct": R.countDistinct(),
            "countDistinctNonNull": R.countDistinctNonNull(),
            "countRuns": R.countRuns(),
            "frequencyHistogram": R.frequencyHistogram(),
            "intervalMean": R.intervalMean(10, 90),
            "percentile": R.percentile([0, 25, 50, 90, 100]),
            "percentileNamed": R.percentile([50], ["middle"]),
        },
        VALUES,
    )
    v = VALUES
    n = len(v)
    mean = statistics.mean(v)
    s = statistics.stdev(v)
    skew = n / ((n - 1) * (n - 2)) * sum(((x - mean) / s) ** 3 for x in v)
    m4 = sum((x - mean) ** 4 for x in v)
    kurt = n * (n + 1) * m4 / ((n - 1) * (n - 2) * (n - 3) * s**4) - 3 * (n - 1) ** 2 / (
        (n - 2) * (n - 3)
    )
    p10, p90 = np.percentile(v, [10, 90])
    runs = 1 + sum(1 for a, b in itertools.pairwise(v) if a != b)
    counts = Counter(v)
    top = max(counts.values())
    assert near(
        got,
        {
            "mean": mean,
            "sum": sum(v),
            "product": math.prod(v),
            "count": n,
            "countEvery": n,
            "first": v[0],
            "last": v[-1],
            "firstNonNull": v[0],
            "lastNonNull": v[-1],
            "min": min(v),
            "max": max(v),
            "minMax": {"min": min(v), "max": max(v)},
            "median": statistics.median(v),
            "mode": min(x for x, c in counts.items() if c == top),
            "stdDev": statistics.pstdev(v),
            "variance": statistics.pvariance(v),
            "sampleStdDev": s,
            "sampleVariance": statistics.variance(v),
            "skew": skew,
            "kurtosis": kurt,
            "countDistinct": len(set(v)),
            "countDistinctNonNull": len(set(v)),
            "countRuns": runs,
            "frequencyHistogram": {repr(k): c for k, c in counts.items()},
            "intervalMean": statistics.mean(x for x in v if p10 <= x <= p90),
            "percentile": dict(
                zip(
                    ["p0", "p25", "p50", "p90", "p100"],
                    np.percentile(v, [0, 25, 50, 90, 100]),
                    strict=True,
                )
            ),
            "percentileNamed": float(np.percentile(v, 50)),
        },
    )


def test_logical_bitwise_and_circular_reducers(ee_api) -> None:
    ee = ee_api
    R = ee.Reducer
    ints = [12, 10, 14]
    got = _reduce_all(
        ee,
        {
            "anyNonZero": R.anyNonZero(),
            "allNonZero": R.allNonZero(),
            "and": ee.ApiFunction.call_("Reducer.and"),
            "or": ee.ApiFunction.call_("Reducer.or"),
            "bitwiseAnd": R.bitwiseAnd(),
            "bitwiseOr": R.bitwiseOr(),
        },
        ints,
    )
    assert got == {
        "anyNonZero": 1,
        "allNonZero": 1,
        "and": 1,
        "or": 1,
        "bitwiseAnd": 12 & 10 & 14,
        "bitwiseOr": 12 | 10 | 14,
    }
    zeros = _reduce_all(ee, {"all": R.allNonZero(), "any": R.anyNonZero()}, [0, 0, 3])
    assert zeros == {"all": 0, "any": 1}
    angles = [0.1, 6.2, 0.3, 5.9]
    got = _reduce_all(
        ee,
        {"mean": R.circularMean(), "var": R.circularVariance(), "sd": R.circularStddev()},
        angles,
    )
    c = sum(math.cos(a) for a in angles)
    s = sum(math.sin(a) for a in angles)
    r = math.hypot(c, s) / len(angles)
    assert got == pytest.approx(
        {"mean": math.atan2(s, c), "var": 1 - r, "sd": math.sqrt(-2 * math.log(r))}
    )


def _t_two_sided(t: float, df: int) -> float:
    """P(|T| > |t|) for Student's t, by Simpson integration of its density."""
    c = math.gamma((df + 1) / 2) / (math.sqrt(df * math.pi) * math.gamma(df / 2))
    n, a, b = 20000, 0.0, abs(t)
    h = (b - a) / n
    total = sum(
        (1 if i in (0, n) else 4 if i % 2 else 2)
        * c
        * (1 + (a + i * h) ** 2 / df) ** (-(df + 1) / 2)
        for i in range(n + 1)
    )
    return 1 - 2 * total * h / 3


def _ranks(values: list[float]) -> list[float]:
    return [
        sum(1 for w in values if w < v) + (sum(1 for w in values if w == v) + 1) / 2 for v in values
    ]


def test_two_input_reducers(ee_api) -> None:
    ee = ee_api
    R = ee.Reducer
    rows = [[x, y] for x, y in zip(XS, YS, strict=True)]
    got = _reduce_all(
        ee,
        {
            "linearFit": R.linearFit(),
            "pearson": R.pearsonsCorrelation(),
            "spearman": R.spearmansCorrelation(),
            "kendall2": R.kendallsCorrelation(2),
            "sens": R.sensSlope(),
            "minWithArg": R.min(2),
            "maxWithArg": R.max(2),
            "toList": R.toList(2),
        },
        rows,
    )
    scale = statistics.covariance(XS, YS) / statistics.variance(XS)
    assert got["linearFit"] == pytest.approx(
        {"scale": scale, "offset": statistics.mean(YS) - scale * statistics.mean(XS)}
    )
    r = statistics.correlation(XS, YS)
    t = r * math.sqrt((len(XS) - 2) / (1 - r * r))
    assert got["pearson"]["correlation"] == pytest.approx(r)
    assert got["pearson"]["p-value"] == pytest.approx(_t_two_sided(t, len(XS) - 2), abs=1e-8)
    assert got["spearman"] == pytest.approx(statistics.correlation(_ranks(XS), _ranks(YS)))
    assert got["kendall2"] == pytest.approx(1.0)
    slopes = sorted(
        (YS[j] - YS[i]) / (XS[j] - XS[i]) for i in range(len(XS)) for j in range(i + 1, len(XS))
    )
    slope = statistics.median(slopes)
    assert got["sens"] == pytest.approx(
        {"slope": slope, "offset": statistics.median(y - slope * x for x, y in rows)}
    )
    assert got["minWithArg"] == {"min": XS[0], "min1": YS[0]}
    assert got["maxWithArg"] == {"max": XS[-1], "max1": YS[-1]}
    assert got["toList"] == rows
    # linearRegression on [1, x] -> y: the intercept and slope, and the RMS residual.
    design = np.column_stack([np.ones(len(XS)), XS])
    coef, *_ = np.linalg.lstsq(design, np.array(YS), rcond=None)
    residual = np.sqrt(np.mean((design @ coef - YS) ** 2))
    reg = ee.List([[1, x, y] for x, y in rows]).reduce(R.linearRegression(2, 1)).getInfo()
    assert np.ravel(reg["coefficients"]) == pytest.approx(coef)
    assert reg["residuals"] == pytest.approx([residual])


def test_kendall_single_input(ee_api) -> None:
    ee = ee_api
    ys = [3.0, 1.0, 4.0, 1.5, 5.0, 9.0, 2.0]
    got = ee.List(ys).reduce(ee.Reducer.kendallsCorrelation()).getInfo()
    pairs = [(i, j) for i in range(len(ys)) for j in range(i + 1, len(ys))]
    concordant = sum(1 for i, j in pairs if ys[j] > ys[i])
    discordant = sum(1 for i, j in pairs if ys[j] < ys[i])
    assert got == pytest.approx((concordant - discordant) / len(pairs))


def test_histograms(ee_api) -> None:
    ee = ee_api
    R = ee.Reducer
    got = _reduce_all(
        ee,
        {
            "fixed": R.fixedHistogram(0, 10, 5),
            "fixedCumulative": R.fixedHistogram(0, 10, 5, True),
            "histogram": R.histogram(4),
            "histogramMinWidth": R.histogram(None, 4),
            "auto": R.autoHistogram(4),
        },
        VALUES,
    )
    counts = [sum(1 for v in VALUES if 2 * i <= v < 2 * i + 2) for i in range(5)]
    assert got["fixed"] == [[2 * i, c] for i, c in enumerate(counts)]
    assert got["fixedCumulative"] == [[2 * i, sum(counts[: i + 1])] for i in range(5)]
    # Power-of-2 bucket widths: the range 1..9 in at most 4 buckets needs width 4 (8/4 = 2 would
    # need 5 buckets from 0), starting at a multiple of the width.
    for key, width in (("histogram", 4.0), ("histogramMinWidth", 4.0)):
        h = got[key]
        assert h["bucketWidth"] == width
        start = math.floor(min(VALUES) / width) * width
        assert h["bucketMin"] == start
        n = int((max(VALUES) - start) // width) + 1
        buckets = [[v for v in VALUES if start + i * width <= v < start + (i + 1) * width]
                   for i in range(n)]  # fmt: skip
        assert h["histogram"] == [len(b) for b in buckets]
        assert h["bucketMeans"] == pytest.approx([statistics.mean(b) for b in buckets])
    assert got["auto"] == [
        [got["histogram"]["bucketMin"] + i * 4.0, c]
        for i, c in enumerate(got["histogram"]["histogram"])
    ]


def test_combinators_and_outputs(ee_api) -> None:
    ee = ee_api
    R = ee.Reducer
    combined = R.mean().combine(R.minMax(), "mm_", True)
    rows = [[x, y] for x, y in zip(XS, YS, strict=True)]
    got = ee.Dictionary(
        {
            "combined": ee.List(VALUES).reduce(combined),
            "outputs": combined.getOutputs(),
            "renamed": ee.List(VALUES).reduce(R.minMax().setOutputs(["lo", "hi"])),
            "repeat": ee.List(rows).reduce(R.mean().repeat(2)),
            "forEach": ee.List(rows).reduce(R.sum().forEach(["x", "y"])),
            "separate": ee.List(rows).reduce(R.min().combine(R.max())),
            "group": ee.List([[k % 3, v] for k, v in enumerate(VALUES)]).reduce(
                R.mean().group(0, "key")
            ),
            "unweighted": ee.List(VALUES).reduce(R.mean().unweighted()),
            "collection": ee.List(rows).reduce(R.toCollection(["x", "y"])),
        }
    ).getInfo()
    assert got["combined"] == pytest.approx(
        {"mean": statistics.mean(VALUES), "mm_min": min(VALUES), "mm_max": max(VALUES)}
    )
    assert got["outputs"] == ["mean", "mm_min", "mm_max"]
    assert got["renamed"] == {"lo": min(VALUES), "hi": max(VALUES)}
    assert got["repeat"] == pytest.approx([statistics.mean(XS), statistics.mean(YS)])
    assert got["forEach"] == pytest.approx({"x": sum(XS), "y": sum(YS)})
    assert got["separate"] == {"min": min(XS), "max": max(YS)}
    groups = {k: [v for i, v in enumerate(VALUES) if i % 3 == k] for k in range(3)}
    assert got["group"] == [{"key": k, "mean": pytest.approx(statistics.mean(groups[k]))}
                            for k in range(3)]  # fmt: skip
    assert got["unweighted"] == pytest.approx(statistics.mean(VALUES))
    assert [f["properties"] for f in got["collection"]["features"]] == [
        {"x": x, "y": y} for x, y in rows
    ]


def test_arrays_per_element(ee_api) -> None:
    """Arrays travel as (nested) lists: getArray, toArray and Reducer.forEachElement."""
    ee = ee_api
    arrays = [[1.0, 10.0, 3.0], [2.0, 30.0, 5.0], [6.0, 20.0, 4.0]]
    feature = ee.Feature(None, {"a": 1, "b": 2.5, "arr": [1, 2]})
    got = ee.Dictionary(
        {
            "forEachElement": ee.List(arrays).reduce(ee.Reducer.mean().forEachElement()),
            "minMaxEach": ee.List(arrays).reduce(ee.Reducer.minMax().forEachElement()),
            "listGetArray": ee.List([0, [[1, 2], [3, 4]]]).getArray(1),
            "dictGetArray": ee.Dictionary({"k": [1, 2, 3]}).getArray("k"),
            "toArray": ee.Dictionary({"b": 2, "a": 1}).toArray(),
            "toArrayRows": ee.Dictionary({"x": [1, 2], "y": [3, 4]}).toArray(["y", "x"]),
            "toArrayColumns": ee.Dictionary({"x": [1, 2], "y": [3, 4]}).toArray(None, 1),
            "elementGetArray": feature.getArray("arr"),
            "featureToArray": feature.toArray(["b", "a"]),
        }
    ).getInfo()
    columns = list(zip(*arrays, strict=True))
    assert got["forEachElement"] == pytest.approx([statistics.mean(c) for c in columns])
    assert got["minMaxEach"] == {
        "min": [min(c) for c in columns],
        "max": [max(c) for c in columns],
    }
    assert got["listGetArray"] == [[1, 2], [3, 4]]
    assert got["dictGetArray"] == [1, 2, 3]
    assert got["toArray"] == [1, 2]
    assert got["toArrayRows"] == [[3, 4], [1, 2]]
    assert got["toArrayColumns"] == [[1, 3], [2, 4]]
    assert got["elementGetArray"] == [1, 2]
    assert got["featureToArray"] == [2.5, 1]
    with pytest.raises(ee.EEException, match="not an array"):
        ee.List([["a"]]).getArray(0).getInfo()
