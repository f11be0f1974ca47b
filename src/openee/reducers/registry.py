"""The reducer registry: one spec per Earth Engine reducer, the only table of reducer names.

A spec says what a reducer is (its default outputs, the inputs of one copy, its description for
constructors without arguments) and where it runs: the `Context`s that have a kernel for it. A
context asks `require(reducer, context)` before running; a reducer without a kernel there is
refused with INVALID_ARGUMENT naming the reducer and the context, and the reducers it accepts.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from openee.errors import InvalidArgumentError
from openee.reducers import axis as along
from openee.reducers import (
    burn,
    column,
    constructors,
    grouped,
    lists,
    matrix,
    neighborhood,
    pixel,
    stats,
    weighted,
)
from openee.reducers.axis import Accumulate, AxisKernel, Collapse
from openee.reducers.burn import BurnKernel
from openee.reducers.column import ColumnKernel
from openee.reducers.grouped import GroupedKernel
from openee.reducers.lists import Columns, Split, Walk
from openee.reducers.lists import Kernel as ListKernel
from openee.reducers.matrix import Weighted
from openee.reducers.neighborhood import CONVOLVE, NeighborhoodKernel
from openee.reducers.pixel import PixelKernel
from openee.reducers.stats import StatKernel
from openee.values.reducer import Reducer


class Context(enum.Flag):
    """Where a reducer runs; the message of a refusal names it by its `phrase`."""

    COLLECTION = enum.auto()  # ImageCollection.reduce: per pixel over a stack of images
    BANDS = enum.auto()  # Image.reduce: per pixel across bands
    FEATURE_IMAGE = enum.auto()  # FeatureCollection.reduceToImage
    NEIGHBORHOOD = enum.auto()  # Image.reduceNeighborhood
    COMPONENTS = enum.auto()  # Image.reduceConnectedComponents
    RESOLUTION = enum.auto()  # Image.reduceResolution
    REGION_ARRAY = enum.auto()  # Image.reduceRegion over array-valued pixels
    ARRAY_AXIS = enum.auto()  # Array.reduce, Image.arrayReduce
    ARRAY_ACCUM = enum.auto()  # Array.accum, Image.arrayAccum
    AGGREGATE = enum.auto()  # lists and columns: List.reduce, reduceColumns, reduceRegion
    COLLAPSE = enum.auto()  # inverseDistance/kriging: overlapping points to one value
    WEIGHTED = enum.auto()  # Reducer.splitWeights: reducers with a weighted input

    @property
    def phrase(self) -> str:
        return _PHRASES[self]


_PHRASES = {
    Context.COLLECTION: "on image collections",
    Context.BANDS: "across bands",
    Context.FEATURE_IMAGE: "by reduceToImage",
    Context.NEIGHBORHOOD: "by reduceNeighborhood",
    Context.COMPONENTS: "by reduceConnectedComponents",
    Context.RESOLUTION: "by reduceResolution",
    Context.REGION_ARRAY: (
        "on array-valued pixels (it cannot reduce arrays: arrayFlatten() makes scalar bands)"
    ),
    Context.ARRAY_AXIS: "on arrays",
    Context.ARRAY_ACCUM: "by array accumulation",
    Context.AGGREGATE: "on lists of values",
    Context.COLLAPSE: "to collapse overlapping points",
    Context.WEIGHTED: "with split weights: it has no weighted input",
}

C = Context
# No context: a reducer whose kernels are all for contexts that derive from them.
NOWHERE = Context(0)
# The contexts that run a reducer's per-pixel kernel (openee.reducers.pixel).
PIXEL = C.COLLECTION | C.BANDS | C.FEATURE_IMAGE


@dataclass(frozen=True)
class ReducerSpec:
    """One Earth Engine reducer.

    `outputs` and `inputs` are those of the constructor without arguments (None: the reducer
    has a constructor of its own, whose arguments decide them); `doc` describes that
    constructor; `contexts` are the contexts with a kernel for it.
    `make` is its constructor (Reducer.<name>, the wire signature): generated for those without
    arguments.
    """

    name: str
    contexts: Context
    outputs: tuple[str, ...] | None = None
    inputs: int = 1
    doc: str = ""
    # A combinator applies other reducers (its `parts`); contexts walk them structurally.
    combinator: bool = False
    # Kernels: a reducer runs in the contexts of the kernels it has.
    pixel: PixelKernel | None = None  # per pixel over a stack: PIXEL contexts
    axis: AxisKernel | None = None  # over array axes: ARRAY_AXIS
    accumulate: Accumulate | None = None  # running, along an array axis: ARRAY_ACCUM
    collapse: Collapse | None = None  # 1-D values to one: COLLAPSE
    grouped: GroupedKernel | None = None  # per group of pixels: COMPONENTS
    stats: StatKernel | None = None  # other statistics over a stack of images: COLLECTION
    neighborhood: NeighborhoodKernel | None = None  # over a kernel's neighbourhood
    # reduceToImage by rasterizing all features at once (it stacks them for the others).
    burn: BurnKernel | None = None
    # A region's band values at once (the others go through the list kernels).
    column: ColumnKernel | None = None
    # Over columns of values (openee.reducers.lists, .matrix): AGGREGATE.
    aggregate: ListKernel | None = None
    # A combinator's structure, AGGREGATE: `split` hands each part a range of its inputs
    # (combine, forEach; the pixel contexts walk these too), `walk` runs its child itself.
    split: Split | None = None
    walk: Walk | None = None
    # The statistic of (value, weight) rows after Reducer.splitWeights: WEIGHTED.
    weighted: Weighted | None = None
    # What contexts ask instead of comparing names:
    # the reducers whose kernels make its outputs where it has none of its own (minMax: min,
    # max, over array axes and neighbourhoods);
    fields: tuple[str, ...] = ()
    # over array axes and accumulations, integer inputs give integers;
    keeps_integers: bool = False
    # it counts its inputs: it reduces no input at all to the count of rows (reduceToVectors);
    counts: bool = False
    # the contexts that use it when the caller gives no reducer;
    default_in: Context = NOWHERE
    # ImageCollection.reduce fits it per pixel into array bands (regression_image);
    pixel_regression: bool = False
    # the name of the ImageCollection shortcut that reduces with it (ImageCollection.mean());
    shortcut: str | None = None
    # the description of Image.focal<Name>, which reduces neighbourhoods with it;
    focal: str | None = None
    # (name, description) of the AggregateFeatureCollection.<name> that reduces a property.
    property_aggregate: tuple[str, str] | None = None
    # Its constructor, registered as Reducer.<name> (openee.reducers.constructors).
    make: Callable[..., Reducer] | None = None

    def __post_init__(self) -> None:
        contexts = self.contexts
        for kernel, context in (
            (self.pixel, PIXEL),
            (self.axis, Context.ARRAY_AXIS),
            (self.accumulate, Context.ARRAY_ACCUM),
            (self.collapse, Context.COLLAPSE),
            (self.grouped, Context.COMPONENTS),
            (self.stats, Context.COLLECTION),
            (self.neighborhood, Context.NEIGHBORHOOD),
            (self.aggregate, Context.AGGREGATE),
            (self.split, Context.AGGREGATE),
            (self.walk, Context.AGGREGATE),
            (self.weighted, Context.WEIGHTED),
        ):
            if kernel is not None:
                contexts |= context
        object.__setattr__(self, "contexts", contexts)
        if self.make is None and self.outputs is not None:
            make = constructors.plain(self.name, self.outputs, self.inputs, self.doc)
            object.__setattr__(self, "make", make)

    def runs_in(self, context: Context) -> bool:
        return context in self.contexts


def _plain(
    name: str,
    contexts: Context,
    outputs: tuple[str, ...],
    doc: str,
    inputs: int = 1,
    **kernels: Any,
) -> ReducerSpec:
    return ReducerSpec(name, contexts, outputs, inputs, doc, **kernels)


def _split_weights(columns: Columns, reducer: Reducer) -> list[Any]:
    """Reducer.splitWeights' list kernel: the weighted statistic of its child."""
    child = reducer.parts[0]
    statistic = SPECS[child.name].weighted if child.name in SPECS else None
    if statistic is None:
        raise InvalidArgumentError(f"Reducer.splitWeights: Reducer.{child.name} takes no weights.")
    return matrix.weighted(columns, child, statistic)


def _make_split_weights(reducer: Reducer) -> Reducer:
    """Returns the reducer with its weighted input replaced by two unweighted inputs: the value
    and its weight (mean, sum, variance, stdDev, frequencyHistogram, histogram and mode take
    weights).

    Args:
        reducer: A one-input reducer that takes weights.
    """
    require(reducer, Context.WEIGHTED, simple=True)
    if not takes_weights(reducer):
        raise refusal(reducer.name, Context.WEIGHTED)
    return Reducer("splitWeights", reducer.outputs, inputs=2, parts=(reducer,))


SPECS: dict[str, ReducerSpec] = {s.name: s for s in (
    # Constructors without arguments (their algorithms are built from these specs).
    _plain("mean", C.RESOLUTION, ("mean",), "Creates a reducer that computes the (unweighted) mean of its inputs.", pixel=pixel.MEAN, axis=along.AXIS_MEAN, accumulate=along.ACCUM_MEAN, collapse=along.COLLAPSE_MEAN, grouped=grouped.GROUPED_MEAN, neighborhood=neighborhood.NEIGHBORHOOD_MEAN, burn=burn.BURN_MEAN, column=column.COLUMN_MEAN, aggregate=lists.MEAN, weighted=matrix.WEIGHTED_MEAN, default_in=C.COLLAPSE, shortcut="mean", focal="Applies a morphological mean filter to each band of an image: the kernel-weighted mean over each pixel's neighbourhood.", property_aggregate=("mean", "Returns the mean of the values of the property.")),
    _plain("sum", NOWHERE, ("sum",), "Creates a reducer that computes the sum of its inputs.", pixel=pixel.SUM, axis=along.AXIS_SUM, accumulate=along.ACCUM_SUM, collapse=along.COLLAPSE_SUM, grouped=grouped.GROUPED_SUM, neighborhood=neighborhood.NEIGHBORHOOD_SUM, burn=burn.BURN_SUM, column=column.COLUMN_SUM, aggregate=lists.SUM, weighted=matrix.WEIGHTED_SUM, keeps_integers=True, default_in=C.ARRAY_ACCUM, shortcut="sum", property_aggregate=("sum", "Returns the sum of the values of the property.")),
    _plain("product", NOWHERE, ("product",), "Creates a reducer that computes the product of its inputs.", axis=along.AXIS_PRODUCT, accumulate=along.ACCUM_PRODUCT, stats=stats.PRODUCT, aggregate=lists.PRODUCT, keeps_integers=True, shortcut="product", property_aggregate=("product", "Returns the product of the values of the property.")),
    _plain("count", C.REGION_ARRAY, ("count",), "Creates a reducer that counts its non-null inputs.", pixel=pixel.COUNT, axis=along.AXIS_COUNT, accumulate=along.ACCUM_COUNT, grouped=grouped.GROUPED_COUNT, neighborhood=neighborhood.NEIGHBORHOOD_COUNT, burn=burn.BURN_COUNT, column=column.COLUMN_COUNT, aggregate=lists.COUNT, keeps_integers=True, counts=True, shortcut="count"),
    _plain("countEvery", C.REGION_ARRAY, ("count",), "Creates a reducer that counts its inputs, nulls included.", axis=along.AXIS_COUNT, stats=stats.COUNT_EVERY, aggregate=lists.COUNT_EVERY, counts=True),
    _plain("first", C.REGION_ARRAY, ("first",), "Creates a reducer that returns the first of its inputs.", pixel=pixel.FIRST, axis=along.AXIS_FIRST, collapse=along.COLLAPSE_FIRST, burn=burn.BURN_FIRST, aggregate=lists.FIRST, keeps_integers=True),
    _plain("last", C.REGION_ARRAY, ("last",), "Creates a reducer that returns the last of its inputs.", pixel=pixel.LAST, axis=along.AXIS_LAST, collapse=along.COLLAPSE_LAST, burn=burn.BURN_LAST, aggregate=lists.LAST, keeps_integers=True),
    _plain("firstNonNull", C.REGION_ARRAY, ("first",), "Creates a reducer that returns the first non-null input.", aggregate=lists.FIRST_NON_NULL),
    _plain("lastNonNull", C.REGION_ARRAY, ("last",), "Creates a reducer that returns the last non-null input.", aggregate=lists.LAST_NON_NULL),
    _plain("stdDev", NOWHERE, ("stdDev",), "Creates a reducer that computes the population standard deviation.", pixel=pixel.STD_DEV, axis=along.AXIS_STD_DEV, grouped=grouped.GROUPED_STD_DEV, neighborhood=neighborhood.NEIGHBORHOOD_STD_DEV, column=column.COLUMN_STD_DEV, aggregate=lists.STD_DEV, weighted=matrix.WEIGHTED_STD_DEV, property_aggregate=("total_sd", "Returns the population standard deviation of the values of the property.")),
    _plain("variance", NOWHERE, ("variance",), "Creates a reducer that computes the population variance.", pixel=pixel.VARIANCE, axis=along.AXIS_VARIANCE, grouped=grouped.GROUPED_VARIANCE, neighborhood=neighborhood.NEIGHBORHOOD_VARIANCE, column=column.COLUMN_VARIANCE, aggregate=lists.VARIANCE, weighted=matrix.WEIGHTED_VARIANCE, property_aggregate=("total_var", "Returns the population variance of the values of the property.")),
    _plain("sampleStdDev", NOWHERE, ("stdDev",), "Creates a reducer that computes the sample standard deviation.", axis=along.AXIS_SAMPLE_STD_DEV, stats=stats.SAMPLE_STD_DEV, column=column.COLUMN_SAMPLE_STD_DEV, aggregate=lists.SAMPLE_STD_DEV, property_aggregate=("sample_sd", "Returns the sample standard deviation of the values of the property.")),
    _plain("sampleVariance", NOWHERE, ("variance",), "Creates a reducer that computes the sample variance.", axis=along.AXIS_SAMPLE_VARIANCE, stats=stats.SAMPLE_VARIANCE, column=column.COLUMN_SAMPLE_VARIANCE, aggregate=lists.SAMPLE_VARIANCE, property_aggregate=("sample_var", "Returns the sample variance of the values of the property.")),
    _plain("skew", NOWHERE, ("skew",), "Creates a reducer that computes the sample skewness of its inputs.", stats=stats.SKEW, aggregate=lists.SKEW),
    _plain("kurtosis", NOWHERE, ("kurtosis",), "Creates a reducer that computes the sample excess kurtosis.", stats=stats.KURTOSIS, aggregate=lists.KURTOSIS),
    _plain("minMax", C.ARRAY_AXIS, ("min", "max"), "Creates a reducer that computes the minimum and maximum.", stats=stats.MIN_MAX, column=column.COLUMN_MIN_MAX, aggregate=lists.MIN_MAX, fields=("min", "max")),
    _plain("anyNonZero", NOWHERE, ("any",), "Creates a reducer that returns 1 if any input is non-zero.", stats=stats.ANY_NON_ZERO, aggregate=lists.ANY_NON_ZERO, shortcut="or"),
    _plain("allNonZero", NOWHERE, ("all",), "Creates a reducer that returns 1 if all inputs are non-zero.", stats=stats.ALL_NON_ZERO, aggregate=lists.ALL_NON_ZERO, shortcut="and"),
    _plain("or", NOWHERE, ("or",), "Creates a reducer that returns 1 if any input is non-zero.", aggregate=lists.OR),
    _plain("and", NOWHERE, ("and",), "Creates a reducer that returns 1 if all inputs are non-zero.", aggregate=lists.AND),
    _plain("bitwiseAnd", NOWHERE, ("bitwiseAnd",), "Creates a reducer that computes the bitwise AND of its inputs.", aggregate=lists.BITWISE_AND),
    _plain("bitwiseOr", NOWHERE, ("bitwiseOr",), "Creates a reducer that computes the bitwise OR of its inputs.", aggregate=lists.BITWISE_OR),
    _plain("circularMean", NOWHERE, ("mean",), "Creates a reducer that computes the circular mean of angles in radians.", aggregate=lists.CIRCULAR_MEAN),
    _plain("circularVariance", NOWHERE, ("variance",), "Creates a reducer that computes the circular variance (1 - R) of angles in radians.", aggregate=lists.CIRCULAR_VARIANCE),
    _plain("circularStddev", NOWHERE, ("stdDev",), "Creates a reducer that computes the circular standard deviation of angles in radians.", aggregate=lists.CIRCULAR_STDDEV),
    _plain("countDistinct", NOWHERE, ("count",), "Creates a reducer that counts the distinct inputs, null included.", stats=stats.COUNT_DISTINCT, aggregate=lists.COUNT_DISTINCT),
    _plain("countDistinctNonNull", NOWHERE, ("count",), "Creates a reducer that counts the distinct non-null inputs.", stats=stats.COUNT_DISTINCT, aggregate=lists.COUNT_DISTINCT_NON_NULL),
    _plain("countRuns", NOWHERE, ("count",), "Creates a reducer that counts the runs of equal consecutive inputs.", aggregate=lists.COUNT_RUNS),
    _plain("frequencyHistogram", NOWHERE, ("histogram",), "Creates a reducer that counts each distinct input: a dictionary from value to count.", column=column.COLUMN_FREQUENCY_HISTOGRAM, aggregate=lists.FREQUENCY_HISTOGRAM, weighted=weighted.WEIGHTED_FREQUENCY_HISTOGRAM, property_aggregate=("histogram", "Returns a dictionary from each value of the property to its number of occurrences.")),
    _plain("linearFit", NOWHERE, ("scale", "offset"), "Creates a two-input reducer that fits y = scale * x + offset by least squares.", 2, stats=stats.LINEAR_FIT, aggregate=lists.LINEAR_FIT),
    _plain("pearsonsCorrelation", NOWHERE, ("correlation", "p-value"), "Creates a two-input reducer that computes Pearson's correlation and its two-sided p-value.", 2, aggregate=lists.PEARSONS_CORRELATION),
    _plain("spearmansCorrelation", NOWHERE, ("correlation",), "Creates a two-input reducer that computes Spearman's rank correlation.", 2, aggregate=lists.SPEARMANS_CORRELATION),
    _plain("sensSlope", NOWHERE, ("slope", "offset"), "Creates a two-input (x, y) reducer that computes Sen's slope: the median of pairwise slopes.", 2, aggregate=lists.SENS_SLOPE),
    _plain("covariance", C.REGION_ARRAY, ("covariance",), "Creates a reducer that reduces 1-D arrays of the same length N to their NxN sample covariance matrix (divided by n - 1).", aggregate=matrix.COVARIANCE),
    _plain("centeredCovariance", C.REGION_ARRAY, ("covariance",), "Creates a reducer that reduces mean-centred 1-D arrays of length N to their NxN covariance matrix: the sum of x x^T over n - 1, without subtracting a mean.", aggregate=matrix.CENTERED_COVARIANCE),
    # Constructors of their own (openee.algorithms.reducers).
    ReducerSpec("median", NOWHERE, pixel=pixel.MEDIAN, axis=along.AXIS_MEDIAN, collapse=along.COLLAPSE_MEDIAN, grouped=grouped.GROUPED_MEDIAN, neighborhood=neighborhood.NEIGHBORHOOD_MEDIAN, column=column.COLUMN_MEDIAN, aggregate=lists.MEDIAN, shortcut="median", focal="Applies a morphological filter to each band of an image: the median over each pixel's neighbourhood.", make=constructors.median),
    ReducerSpec("mode", NOWHERE, pixel=pixel.MODE, neighborhood=neighborhood.NEIGHBORHOOD_MODE, aggregate=lists.MODE, weighted=weighted.WEIGHTED_MODE, shortcut="mode", focal="Applies a morphological filter to each band of an image: the most frequent value (ties: the smallest) over each pixel's neighbourhood.", make=constructors.mode),
    ReducerSpec("histogram", NOWHERE, aggregate=lists.HISTOGRAM, weighted=weighted.WEIGHTED_HISTOGRAM, make=constructors.histogram),
    ReducerSpec("min", NOWHERE, pixel=pixel.MIN, axis=along.AXIS_MIN, accumulate=along.ACCUM_MIN, collapse=along.COLLAPSE_MIN, grouped=grouped.GROUPED_MIN, neighborhood=neighborhood.NEIGHBORHOOD_MIN, burn=burn.BURN_MIN, column=column.COLUMN_MIN, aggregate=lists.MIN, keeps_integers=True, shortcut="min", focal="Applies a morphological filter to each band of an image: the minimum over each pixel's neighbourhood.", make=constructors.min_),
    ReducerSpec("max", NOWHERE, pixel=pixel.MAX, axis=along.AXIS_MAX, accumulate=along.ACCUM_MAX, collapse=along.COLLAPSE_MAX, grouped=grouped.GROUPED_MAX, neighborhood=neighborhood.NEIGHBORHOOD_MAX, burn=burn.BURN_MAX, column=column.COLUMN_MAX, aggregate=lists.MAX, keeps_integers=True, shortcut="max", focal="Applies a morphological filter to each band of an image: the maximum over each pixel's neighbourhood.", make=constructors.max_),
    ReducerSpec("percentile", NOWHERE, pixel=pixel.PERCENTILE, axis=along.AXIS_PERCENTILE, column=column.COLUMN_PERCENTILE, aggregate=lists.PERCENTILE, make=constructors.percentile),
    ReducerSpec("toList", C.REGION_ARRAY, aggregate=lists.TO_LIST, make=constructors.to_list),
    ReducerSpec("toCollection", NOWHERE, aggregate=lists.TO_COLLECTION, make=constructors.to_collection),
    ReducerSpec("intervalMean", NOWHERE, aggregate=lists.INTERVAL_MEAN, make=constructors.interval_mean),
    ReducerSpec("fixedHistogram", NOWHERE, aggregate=lists.FIXED_HISTOGRAM, make=constructors.fixed_histogram),
    ReducerSpec("autoHistogram", NOWHERE, aggregate=lists.AUTO_HISTOGRAM, make=constructors.auto_histogram),
    ReducerSpec("linearRegression", NOWHERE, aggregate=lists.LINEAR_REGRESSION, pixel_regression=True, make=constructors.linear_regression),
    ReducerSpec("kendallsCorrelation", NOWHERE, aggregate=lists.KENDALLS_CORRELATION, make=constructors.kendalls_correlation),
    ReducerSpec("ridgeRegression", NOWHERE, aggregate=matrix.RIDGE_REGRESSION, make=constructors.ridge_regression),
    ReducerSpec("robustLinearRegression", NOWHERE, aggregate=matrix.ROBUST_LINEAR_REGRESSION, make=constructors.robust_linear_regression),
    ReducerSpec("geometricMedian", NOWHERE, aggregate=matrix.GEOMETRIC_MEDIAN, make=constructors.geometric_median),
    ReducerSpec("fixed2DHistogram", NOWHERE, aggregate=matrix.FIXED_2D_HISTOGRAM, make=constructors.fixed_2d_histogram),
    ReducerSpec("histogramCombiner", NOWHERE, aggregate=matrix.HISTOGRAM_COMBINER, make=constructors.histogram_combiner),
    ReducerSpec("splitWeights", NOWHERE, aggregate=_split_weights, make=_make_split_weights),
    # Combinators: contexts that take them walk their parts.
    ReducerSpec("combine", C.COLLECTION | C.ARRAY_AXIS, combinator=True, split=lists.COMBINE, make=constructors.combine),
    ReducerSpec("forEach", C.COLLECTION, combinator=True, split=lists.FOR_EACH, make=constructors.for_each),
    ReducerSpec("group", NOWHERE, combinator=True, walk=lists.GROUP, make=constructors.group),
    ReducerSpec("forEachElement", NOWHERE, combinator=True, walk=lists.FOR_EACH_ELEMENT, make=constructors.for_each_element),
    ReducerSpec("disaggregate", NOWHERE, combinator=True, walk=lists.DISAGGREGATE, make=constructors.disaggregate),
)}  # fmt: skip


# The option Reducer.unweighted sets on each simple reducer it reaches.
UNWEIGHTED = "unweighted"


def takes_weights(reducer: Reducer) -> bool:
    """Whether a simple reducer's input is weighted: it has a weighted statistic (`weighted`,
    the reducers splitWeights accepts) and Reducer.unweighted has not made it unweighted.
    Weighted inputs reduce the pixels of a region by their covered fraction (ADR 0054)."""
    return (
        runs_in(reducer, Context.WEIGHTED)
        and reducer.inputs == 1
        and not reducer.parts
        and not reducer.option(UNWEIGHTED, False)
    )


def pixel_kernel(name: str) -> PixelKernel:
    """The per-pixel kernel of reducer `name`, or the refusal."""
    found = SPECS.get(name)
    if found is None or found.pixel is None:
        raise refusal(name, Context.COLLECTION)
    return found.pixel


def axis_kernel(name: str) -> AxisKernel:
    """The kernel of reducer `name` over array axes, or the refusal."""
    found = SPECS.get(name)
    if found is None or found.axis is None:
        raise refusal(name, Context.ARRAY_AXIS)
    return found.axis


def accumulate_kernel(name: str) -> Accumulate:
    """The running kernel of reducer `name` along an array axis, or the refusal."""
    found = SPECS.get(name)
    if found is None or found.accumulate is None:
        raise refusal(name, Context.ARRAY_ACCUM)
    return found.accumulate


def collapse_kernel(name: str) -> Collapse:
    """The kernel of reducer `name` that collapses 1-D values to one, or the refusal."""
    found = SPECS.get(name)
    if found is None or found.collapse is None:
        raise refusal(name, Context.COLLAPSE)
    return found.collapse


def grouped_kernel(name: str) -> GroupedKernel:
    """The kernel of reducer `name` over groups of pixels, or the refusal."""
    found = SPECS.get(name)
    if found is None or found.grouped is None:
        raise refusal(name, Context.COMPONENTS)
    return found.grouped


def stat_kernel(name: str) -> StatKernel:
    """The statistics kernel of reducer `name` over a stack of images, or the refusal."""
    found = SPECS.get(name)
    if found is None or found.stats is None:
        raise refusal(name, Context.COLLECTION)
    return found.stats


def neighborhood_kernel(op: str) -> NeighborhoodKernel:
    """The neighbourhood kernel of reducer `op` (or of Image.convolve's 'convolve'), or the
    refusal."""
    if op == "convolve":
        return CONVOLVE
    found = SPECS.get(op)
    if found is None or found.neighborhood is None:
        raise refusal(op, Context.NEIGHBORHOOD)
    return found.neighborhood


def aggregate_spec(name: str) -> ReducerSpec:
    """The spec of reducer `name` if it runs over lists of values, or the refusal."""
    found = SPECS.get(name)
    if found is None or not found.runs_in(Context.AGGREGATE):
        raise refusal(name, Context.AGGREGATE)
    return found


def split(reducer: Reducer) -> list[tuple[Reducer, range]] | None:
    """The parts of a combinator that hands them ranges of its inputs (combine, forEach), each
    with its inputs; None for any other reducer."""
    found = SPECS.get(reducer.name)
    if found is None or found.split is None:
        return None
    return found.split(reducer)


def default(context: Context) -> str:
    """The reducer `context` uses when the caller gives none."""
    return next(s.name for s in SPECS.values() if context in s.default_in)


def shortcuts() -> list[tuple[str, str]]:
    """(shortcut name, reducer name) of the ImageCollection shortcuts, in table order."""
    return [(s.shortcut, s.name) for s in SPECS.values() if s.shortcut is not None]


def property_aggregates() -> list[ReducerSpec]:
    """The reducers of an AggregateFeatureCollection.<name> algorithm, in table order."""
    return [s for s in SPECS.values() if s.property_aggregate is not None]


def focal_specs() -> list[ReducerSpec]:
    """The reducers with an Image.focal<Name> shortcut, in table order."""
    return [s for s in SPECS.values() if s.focal is not None]


def axis_outputs(reducer: Reducer) -> tuple[str | tuple[str, float], ...]:
    """The axis kernels that make the outputs of `reducer` along array axes, in order: a
    reducer name, or (name, parameter) for each parameter of a parameterised one (percentile);
    combined reducers give their parts' outputs. Any other reducer is refused."""
    combined = split(reducer) if supports(reducer.name, Context.ARRAY_AXIS) else None
    outputs: list[str | tuple[str, float]] = []
    for part in [p for p, _ in combined] if combined is not None else [reducer]:
        found = SPECS.get(part.name)
        if found is not None and found.fields:
            outputs += found.fields
        elif found is not None and found.axis is not None and part.params:
            outputs += [(part.name, float(p)) for p in part.params]
        elif supports(part.name, Context.ARRAY_AXIS) and part.repeat == 1 and not part.parts:
            outputs.append(part.name)
        else:
            raise refusal(part.name, Context.ARRAY_AXIS)
    return tuple(outputs)


def keeps_integers(name: str) -> bool:
    """Whether reducer `name` gives integers over array axes when its inputs are integers."""
    found = SPECS.get(name)
    return found is not None and found.keeps_integers


def plain_reducer(name: str) -> Reducer:
    """The reducer that Reducer.<name>() builds (a constructor without arguments)."""
    found = SPECS[name]
    return Reducer(found.name, found.outputs or (), inputs=found.inputs)


def counting() -> Reducer:
    """Reducer.countEvery(): reduceToVectors' default, the number of pixels of each vector."""
    return plain_reducer("countEvery")


def spec(name: str) -> ReducerSpec:
    """The spec of reducer `name` (a programming error if there is none: reducers are only
    built by the constructors registered from this table)."""
    return SPECS[name]


def plain_specs() -> list[ReducerSpec]:
    """The reducers whose constructor takes no arguments, in table order."""
    return [s for s in SPECS.values() if s.outputs is not None]


def names_in(context: Context) -> list[str]:
    """The simple reducers with a kernel in `context`, in table order."""
    return [s.name for s in SPECS.values() if s.runs_in(context) and not s.combinator]


def supports(name: str, context: Context) -> bool:
    """Whether `context` has a kernel for the reducer named `name`."""
    found = SPECS.get(name)
    return found is not None and found.runs_in(context)


def runs_in(reducer: Reducer, context: Context) -> bool:
    return supports(reducer.name, context)


def refusal(name: str, context: Context) -> InvalidArgumentError:
    """The error of a context without a kernel for reducer `name`."""
    accepted = names_in(context)
    hint = f"; use one of {', '.join(accepted)}" if len(accepted) <= 16 else ""
    return InvalidArgumentError(f"Reducer.{name} is not supported {context.phrase}{hint}.")


def require(reducer: Reducer, context: Context, simple: bool = False) -> ReducerSpec:
    """The spec of `reducer` if `context` has a kernel for it, else the refusal.

    With `simple`, a combinator or a repeated reducer (Reducer.repeat) is refused too: the
    context runs one simple reducer only.
    """
    found = SPECS.get(reducer.name)
    if found is None or not found.runs_in(context):
        raise refusal(reducer.name, context)
    if simple and (found.combinator or reducer.parts or reducer.repeat != 1):
        raise refusal(reducer.name if reducer.repeat == 1 else "repeat", context)
    return found
