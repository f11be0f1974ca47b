"""The reducers' constructors: the Reducer each Reducer.<name> algorithm builds from its
arguments (outputs and their names, input counts, options). The algorithm registry registers
them from the specs (openee.reducers.registry, `make`); their signatures are the wire's.
"""

from __future__ import annotations

from collections.abc import Callable

from openee.errors import InvalidArgumentError
from openee.values.reducer import Reducer


def plain(name: str, outputs: tuple[str, ...], inputs: int, doc: str) -> Callable[[], Reducer]:
    """The constructor without arguments of a reducer of fixed outputs and inputs."""

    def make() -> Reducer:
        return Reducer(name, outputs, inputs=inputs)

    make.__doc__ = doc
    return make


def _bucketed(name: str, doc: str) -> Callable[..., Reducer]:
    def make(
        maxBuckets: int | None = None,
        minBucketWidth: float | None = None,
        maxRaw: int | None = None,
    ) -> Reducer:
        options = (("maxBuckets", maxBuckets), ("minBucketWidth", minBucketWidth))
        return Reducer(name, (name,), options=options)

    make.__doc__ = (
        f"{doc}\n\nArgs:\n"
        "    maxBuckets: The maximum number of buckets of a histogram (default 256).\n"
        "    minBucketWidth: The minimum bucket width; widths are powers of 2 otherwise.\n"
        "    maxRaw: Accepted for compatibility; values are always kept raw here.\n"
    )
    return make


median = _bucketed("median", "Creates a reducer that computes the median of its inputs (exactly).")
mode = _bucketed("mode", "Creates a reducer that computes the mode; ties go to the smallest value.")
histogram = _bucketed(
    "histogram",
    "Creates a reducer that computes a histogram: {bucketMeans, bucketMin, bucketWidth, "
    "histogram} with power-of-2 bucket widths.",
)


def to_list(tupleSize: int | None = None, numOptional: int = 0) -> Reducer:
    """Creates a reducer that collects its inputs into a list (of tuples, with tupleSize).

    Args:
        tupleSize: The size of each tuple, or null to collect single values.
        numOptional: How many trailing tuple elements may be null.
    """
    if tupleSize is not None and tupleSize < 1:
        raise InvalidArgumentError("Reducer.toList: tupleSize must be at least 1.")
    options = (("tupleSize", tupleSize), ("numOptional", numOptional))
    return Reducer("toList", ("list",), inputs=tupleSize or 1, options=options)


def to_collection(propertyNames: list[str], numOptional: int = 0) -> Reducer:
    """Creates a reducer that collects its inputs into a FeatureCollection, one feature a row.

    Args:
        propertyNames: The property names of the inputs, one per input.
        numOptional: How many trailing inputs may be null.
    """
    options = (("propertyNames", tuple(propertyNames)), ("numOptional", numOptional))
    return Reducer("toCollection", ("features",), inputs=len(propertyNames), options=options)


def min_(numInputs: int = 1) -> Reducer:
    """Creates a reducer that computes the minimum of its (first) input.

    With numInputs > 1, the other inputs of the row holding the minimum are output too.

    Args:
        numInputs: The number of inputs.
    """
    return _extreme("min", numInputs)


def max_(numInputs: int = 1) -> Reducer:
    """Creates a reducer that computes the maximum of its (first) input.

    With numInputs > 1, the other inputs of the row holding the maximum are output too.

    Args:
        numInputs: The number of inputs.
    """
    return _extreme("max", numInputs)


def _extreme(name: str, count: int) -> Reducer:
    if count < 1:
        raise InvalidArgumentError(f"Reducer.{name}: numInputs must be at least 1.")
    outputs = (name, *[f"{name}{i}" for i in range(1, count)])
    return Reducer(name, outputs, inputs=count)


def percentile(
    percentiles: list[float],
    outputNames: list[str] | None = None,
    maxBuckets: int | None = None,
    minBucketWidth: float | None = None,
    maxRaw: int | None = None,
) -> Reducer:
    """Creates a reducer that computes percentiles, interpolating linearly between ranks.

    Args:
        percentiles: The percentiles, each from 0 to 100.
        outputNames: The output names. Default: 'p' followed by each percentile.
        maxBuckets: Accepted for compatibility; percentiles are computed exactly.
        minBucketWidth: Accepted for compatibility; percentiles are computed exactly.
        maxRaw: Accepted for compatibility; percentiles are computed exactly.
    """
    if not percentiles or not all(0 <= p <= 100 for p in percentiles):
        raise InvalidArgumentError("Reducer.percentile: percentiles must be from 0 to 100.")
    names = outputNames or [f"p{_number_name(p)}" for p in percentiles]
    if len(names) != len(percentiles):
        raise InvalidArgumentError("Reducer.percentile: one output name per percentile.")
    return Reducer("percentile", tuple(names), params=tuple(float(p) for p in percentiles))


def _number_name(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def interval_mean(
    minPercentile: float,
    maxPercentile: float,
    maxBuckets: int | None = None,
    minBucketWidth: float | None = None,
    maxRaw: int | None = None,
) -> Reducer:
    """Creates a reducer that computes the mean of the inputs between two percentiles.

    Args:
        minPercentile: The lower percentile (0-100), inclusive.
        maxPercentile: The upper percentile (0-100), inclusive.
        maxBuckets: Accepted for compatibility; percentiles are computed exactly.
        minBucketWidth: Accepted for compatibility; percentiles are computed exactly.
        maxRaw: Accepted for compatibility; percentiles are computed exactly.
    """
    if not 0 <= minPercentile <= maxPercentile <= 100:
        raise InvalidArgumentError("Reducer.intervalMean: need 0 <= min <= max <= 100.")
    return Reducer("intervalMean", ("mean",), params=(minPercentile, maxPercentile))


def fixed_histogram(min: float, max: float, steps: int, cumulative: bool = False) -> Reducer:
    """Creates a reducer that counts inputs in fixed-width buckets of [min, max).

    The output is a list of [bucket lower edge, count] rows; inputs outside are ignored.

    Args:
        min: The lower edge of the first bucket.
        max: The upper edge of the last bucket (exclusive).
        steps: The number of buckets.
        cumulative: Whether the counts are cumulative.
    """
    if steps < 1 or max <= min:
        raise InvalidArgumentError("Reducer.fixedHistogram: need steps >= 1 and max > min.")
    return Reducer(
        "fixedHistogram",
        ("histogram",),
        params=(min, max, steps),
        options=(("cumulative", cumulative),),
    )


def auto_histogram(
    maxBuckets: int | None = None,
    minBucketWidth: float | None = None,
    maxRaw: int | None = None,
    cumulative: bool = False,
) -> Reducer:
    """Creates a reducer that computes a histogram as [bucket lower edge, count] rows.

    Args:
        maxBuckets: The maximum number of buckets (default 256).
        minBucketWidth: The minimum bucket width; widths are powers of 2 otherwise.
        maxRaw: Accepted for compatibility; values are always kept raw here.
        cumulative: Whether the counts are cumulative.
    """
    options = (
        ("maxBuckets", maxBuckets),
        ("minBucketWidth", minBucketWidth),
        ("cumulative", cumulative),
    )
    return Reducer("autoHistogram", ("histogram",), options=options)


def linear_regression(numX: int, numY: int = 1) -> Reducer:
    """Creates a reducer that computes a least-squares linear regression (no implicit constant).

    Inputs are numX independent then numY dependent variables; outputs are the numX x numY
    'coefficients' and the root mean square of the 'residuals' of each dependent variable.

    Args:
        numX: The number of independent variables (include a constant 1 for an intercept).
        numY: The number of dependent variables.
    """
    if numX < 1 or numY < 1:
        raise InvalidArgumentError("Reducer.linearRegression: numX and numY must be >= 1.")
    return Reducer(
        "linearRegression",
        ("coefficients", "residuals"),
        inputs=numX + numY,
        options=(("numX", numX), ("numY", numY)),
    )


def kendalls_correlation(numInputs: int = 1) -> Reducer:
    """Creates a reducer that computes Kendall's tau-b rank correlation ('tau').

    Args:
        numInputs: 1 (the inputs against their sequence numbers) or 2 (x and y).
    """
    if numInputs not in (1, 2):
        raise InvalidArgumentError("Reducer.kendallsCorrelation: numInputs must be 1 or 2.")
    return Reducer("kendallsCorrelation", ("tau",), inputs=numInputs)


def ridge_regression(numX: int, numY: int = 1, lambda_: float = 0.1) -> Reducer:
    """Creates a reducer that computes a ridge regression of numY dependent variables on numX
    independent ones, with an unpenalised intercept (no constant input is needed).

    Outputs: 'coefficients' ((numX + 1) x numY, each column a dependent variable's slopes then
    its intercept), 'residuals' (the root mean square of each variable's residuals) and
    'pValue' (each variable's F-test p-value); null when there are fewer than numX + 1 rows.

    Args:
        numX: The number of independent variables.
        numY: The number of dependent variables.
        lambda_: The regularisation parameter: the penalty on the squared slopes.
    """
    if numX < 1 or numY < 1:
        raise InvalidArgumentError("numX and numY must be >= 1.")
    if lambda_ < 0:
        raise InvalidArgumentError("lambda must not be negative.")
    return Reducer(
        "ridgeRegression",
        ("coefficients", "residuals", "pValue"),
        inputs=numX + numY,
        options=(("numX", numX), ("numY", numY), ("lambda", lambda_)),
    )


def robust_linear_regression(numX: int, numY: int = 1, beta: float | None = None) -> Reducer:
    """Creates a reducer that computes a robust least-squares regression (no implicit constant)
    by iteratively reweighted least squares with Talwar's cost: a row whose scaled residual
    exceeds beta is an outlier and gets no weight.

    Outputs: 'coefficients' (numX x numY) and 'residuals' (the root mean square of each
    dependent variable's residuals over all rows); null when there are fewer than numX rows.

    Args:
        numX: The number of independent variables (include a constant 1 for an intercept).
        numY: The number of dependent variables.
        beta: The outlier margin, in robust standard deviations of the residuals (each scaled
            by its median absolute deviation). Default: Talwar's 2.795.
    """
    if numX < 1 or numY < 1:
        raise InvalidArgumentError("numX and numY must be >= 1.")
    return Reducer(
        "robustLinearRegression",
        ("coefficients", "residuals"),
        inputs=numX + numY,
        options=(("numX", numX), ("numY", numY), ("beta", beta)),
    )


def geometric_median(numX: int, eta: float = 0.001, initialStepSize: float = 10.0) -> Reducer:
    """Creates a reducer that computes the geometric median of numX-dimensional inputs: the
    point minimising the sum of Euclidean distances to them ('median', an array of numX).

    Args:
        numX: The number of input dimensions.
        eta: The solver stops when a step moves the estimate less than this.
        initialStepSize: Accepted for compatibility; Weiszfeld's iteration needs no step size.
    """
    if numX < 1:
        raise InvalidArgumentError("numX must be >= 1.")
    if eta <= 0:
        raise InvalidArgumentError("eta must be positive.")
    return Reducer("geometricMedian", ("median",), inputs=numX, options=(("eta", eta),))


def fixed_2d_histogram(
    xMin: float, xMax: float, xSteps: int, yMin: float, yMax: float, ySteps: int
) -> Reducer:
    """Creates a two-input (x, y) reducer that counts inputs in fixed-width 2-D buckets;
    inputs outside [xMin, xMax) x [yMin, yMax) are ignored.

    Outputs: 'histogram' (xSteps rows of ySteps counts), 'xBuckets' and 'yBuckets' (the lower
    bucket edges of each axis).

    Args:
        xMin: The lower (inclusive) bound of the first x bucket.
        xMax: The upper (exclusive) bound of the last x bucket.
        xSteps: The number of x buckets.
        yMin: The lower (inclusive) bound of the first y bucket.
        yMax: The upper (exclusive) bound of the last y bucket.
        ySteps: The number of y buckets.
    """
    if xSteps < 1 or ySteps < 1 or xMax <= xMin or yMax <= yMin:
        raise InvalidArgumentError("need at least one step and max > min on each axis.")
    return Reducer(
        "fixed2DHistogram",
        ("histogram", "xBuckets", "yBuckets"),
        inputs=2,
        params=(xMin, xMax, xSteps, yMin, yMax, ySteps),
    )


def histogram_combiner(
    maxBuckets: int | None = None, minBucketWidth: float | None = None
) -> Reducer:
    """Creates a reducer that merges histograms made by Reducer.histogram into one, on a common
    power-of-2 bucket width.

    Args:
        maxBuckets: The maximum number of buckets of the merged histogram (default 256).
        minBucketWidth: The minimum bucket width of the merged histogram.
    """
    options = (("maxBuckets", maxBuckets), ("minBucketWidth", minBucketWidth))
    return Reducer("histogramCombiner", ("histogram",), options=options)


def combine(
    reducer1: Reducer, reducer2: Reducer, outputPrefix: str = "", sharedInputs: bool = False
) -> Reducer:
    """Creates a reducer that runs two reducers side by side.

    Args:
        reducer1: The first reducer.
        reducer2: The second reducer.
        outputPrefix: A prefix for the second reducer's output names.
        sharedInputs: Whether both reducers take the same inputs (they then must take as
            many); otherwise the second's inputs follow the first's.
    """
    if sharedInputs and reducer1.num_inputs() != reducer2.num_inputs():
        raise InvalidArgumentError(
            "Reducer.combine: with shared inputs, both reducers must take as many inputs."
        )
    outputs = (*reducer1.outputs, *[outputPrefix + o for o in reducer2.outputs])
    n = reducer1.num_inputs()
    return Reducer(
        "combine",
        outputs,
        inputs=n if sharedInputs else n + reducer2.num_inputs(),
        parts=(reducer1, reducer2),
        options=(("sharedInputs", sharedInputs),),
    )


def for_each(reducer: Reducer, outputNames: list[str]) -> Reducer:
    """Creates a reducer that applies a copy of the reducer to each group of inputs.

    With a single-output reducer, the outputs are named outputNames; otherwise each name
    prefixes the reducer's output names ('<name>_<output>').

    Args:
        reducer: The reducer to copy.
        outputNames: One name per copy.
    """
    if not outputNames:
        raise InvalidArgumentError("Reducer.forEach: outputNames must not be empty.")
    if len(reducer.outputs) == 1:
        outputs = tuple(outputNames)
    else:
        outputs = tuple(f"{n}_{o}" for n in outputNames for o in reducer.outputs)
    return Reducer(
        "forEach",
        outputs,
        repeat=len(outputNames),
        inputs=reducer.num_inputs(),
        parts=(reducer,),
    )


def group(reducer: Reducer, groupField: int = 0, groupName: str = "group") -> Reducer:
    """Creates a reducer that groups its inputs by one of them and reduces each group.

    The output 'groups' is a list of dictionaries, one per group (sorted by the group value),
    holding the group value under groupName and the reducer's outputs.

    Args:
        reducer: The reducer applied to each group's other inputs.
        groupField: The index of the input that holds the group value.
        groupName: The name of the group value in each dictionary.
    """
    if groupField < 0:
        raise InvalidArgumentError("Reducer.group: groupField must not be negative.")
    return Reducer(
        "group",
        ("groups",),
        inputs=reducer.num_inputs() + 1,
        parts=(reducer,),
        options=(("groupField", groupField), ("groupName", groupName)),
    )


def disaggregate(reducer: Reducer, axis: int | None = None) -> Reducer:
    """Creates a reducer that passes the items of aggregate inputs (arrays, lists, dictionary
    values) one by one to the reducer; numbers and strings pass as they are.

    Args:
        reducer: The reducer that takes the items.
        axis: The array axis to cut arrays along (each slice is one item). Default: arrays
            are flattened completely.
    """
    return Reducer(
        "disaggregate",
        reducer.outputs,
        inputs=reducer.num_inputs(),
        parts=(reducer,),
        options=(("axis", axis),),
    )


def for_each_element(reducer: Reducer) -> Reducer:
    """Creates a reducer that reduces each position of 1-D array inputs separately.

    Each output becomes an array with one value per position.

    Args:
        reducer: The reducer applied at each position.
    """
    return Reducer("forEachElement", reducer.outputs, inputs=reducer.num_inputs(), parts=(reducer,))
