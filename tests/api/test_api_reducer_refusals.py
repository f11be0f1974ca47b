"""Every context that runs reducers refuses one it has no kernel for with a 400
INVALID_ARGUMENT naming the reducer and the context (issue 14; docs/decisions/0038), through
value:compute as the stock client sends it. The reducer tried in each context is found in the
registry (a reducer the registry says the context lacks), so a context that gains a kernel
without the registry knowing, or the reverse, fails here."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from openee.reducers.registry import SPECS, Context, names_in, plain_specs
from openee.settings import DEFAULT_PROJECT

URL = f"/v1/projects/{DEFAULT_PROJECT}/value:compute"

Node = dict[str, Any]


def _node(value: Any) -> Node:
    """A value node as is, anything else as a constant."""
    if isinstance(value, dict) and len(value) == 1 and next(iter(value)).endswith("Value"):
        return value
    return {"constantValue": value}


def _call(name: str, **arguments: Any) -> Node:
    args = {k: _node(v) for k, v in arguments.items()}
    return {"functionInvocationValue": {"functionName": name, "arguments": args}}


def _image() -> Node:
    return _call("Image.constant", value=1)


def _points() -> Node:
    point = _call("GeometryConstructors.Point", coordinates=[10, 45])
    feature = _call("Feature", geometry=point, metadata={"t": 1})
    return _call("Collection", features={"arrayValue": {"values": [feature]}})


# Each context: the call that runs a reducer there, and the text that names the context.
CALLS: dict[Context, tuple[Callable[[Node], Node], str]] = {
    Context.COLLECTION: (
        lambda r: _call(
            "ImageCollection.reduce",
            collection=_call(
                "ImageCollection.fromImages", images={"arrayValue": {"values": [_image()]}}
            ),
            reducer=r,
        ),
        "on image collections",
    ),
    Context.BANDS: (lambda r: _call("Image.reduce", image=_image(), reducer=r), "across bands"),
    Context.FEATURE_IMAGE: (
        lambda r: _call(
            "Collection.reduceToImage", collection=_points(), properties=["t"], reducer=r
        ),
        "by reduceToImage",
    ),
    Context.NEIGHBORHOOD: (
        lambda r: _call(
            "Image.reduceNeighborhood",
            image=_image(),
            reducer=r,
            kernel=_call("Kernel.square", radius=1),
        ),
        "by reduceNeighborhood",
    ),
    Context.COMPONENTS: (
        lambda r: _call(
            "Image.reduceConnectedComponents",
            image=_call("Image.addBands", dstImg=_image(), srcImg=_call("Image.constant", value=2)),
            reducer=r,
        ),
        "by reduceConnectedComponents",
    ),
    Context.RESOLUTION: (
        lambda r: _call(
            "Image.reduceResolution",
            image=_call(
                "Image.setDefaultProjection",
                image=_image(),
                crs=_call("Projection", crs="EPSG:4326"),
                scale=1000,
            ),
            reducer=r,
        ),
        "by reduceResolution",
    ),
    Context.REGION_ARRAY: (
        lambda r: _call(
            "Image.reduceRegion",
            image=_call("Image.toArray", image=_call("Image.constant", value=[1, 2])),
            reducer=r,
            geometry=_call("GeometryConstructors.Point", coordinates=[10, 45]),
            scale=1000,
        ),
        "on array-valued pixels",
    ),
    Context.ARRAY_AXIS: (
        lambda r: _call("Array.reduce", array=_call("Array", values=[[1, 2]]), reducer=r, axes=[0]),
        "on arrays",
    ),
    Context.ARRAY_ACCUM: (
        lambda r: _call("Array.accum", array=_call("Array", values=[1, 2]), axis=0, reducer=r),
        "by array accumulation",
    ),
    Context.COLLAPSE: (
        lambda r: _call(
            "FeatureCollection.inverseDistance",
            collection=_points(),
            range=1000,
            propertyName="t",
            mean=1,
            stdDev=1,
            reducer=r,
        ),
        "to collapse overlapping points",
    ),
    Context.WEIGHTED: (lambda r: _call("Reducer.splitWeights", reducer=r), "with split weights"),
}


def _without_kernel(context: Context) -> str:
    """A reducer (with a constructor without arguments) that `context` has no kernel for."""
    accepted = set(names_in(context))
    return next(s.name for s in plain_specs() if s.name not in accepted)


def test_every_context_is_tried() -> None:
    # The aggregate context (lists and columns) has a kernel for every reducer.
    assert set(CALLS) == {c for c in Context if c is not Context.AGGREGATE}
    assert {s.name for s in plain_specs()} <= set(names_in(Context.AGGREGATE))


@pytest.mark.parametrize("context", list(CALLS), ids=lambda c: c.name)
def test_a_reducer_without_a_kernel_is_refused(client: TestClient, context: Context) -> None:
    build, phrase = CALLS[context]
    name = _without_kernel(context)
    expression = {"result": "0", "values": {"0": build(_call(f"Reducer.{name}"))}}
    response = client.post(URL, json={"expression": expression})
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["status"] == "INVALID_ARGUMENT"
    assert f"Reducer.{name} is not supported {phrase}" in error["message"]


@pytest.mark.parametrize("context", list(CALLS), ids=lambda c: c.name)
def test_a_reducer_with_a_kernel_is_run(client: TestClient, context: Context) -> None:
    """The same call with a reducer the registry accepts there is not refused (so the refusal
    above comes from the registry, not from a malformed call)."""
    build, _ = CALLS[context]
    accepted = [s.name for s in plain_specs() if s.name in names_in(context)]
    expression = {"result": "0", "values": {"0": build(_call(f"Reducer.{accepted[0]}"))}}
    response = client.post(URL, json={"expression": expression})
    assert response.status_code == 200, response.text


COMBINATORS = {
    "combine": lambda r: _call("Reducer.combine", reducer1=r, reducer2=_call("Reducer.mean")),
    "forEach": lambda r: _call("Reducer.forEach", reducer=r, outputNames=["a", "b"]),
    "group": lambda r: _call("Reducer.group", reducer=r, groupField=1),
    "forEachElement": lambda r: _call("Reducer.forEachElement", reducer=r),
    "disaggregate": lambda r: _call("Reducer.disaggregate", reducer=r),
}


def test_every_combinator_is_tried() -> None:
    assert set(COMBINATORS) == {s.name for s in SPECS.values() if s.combinator}


@pytest.mark.parametrize("name", list(COMBINATORS))
def test_a_combinator_cannot_be_repeated(client: TestClient, name: str) -> None:
    """Reducer.repeat copies simple reducers only: the registry's combinator flag, which also
    refuses disaggregate (before the specs, a repeated disaggregate ignored its copies)."""
    combinator = COMBINATORS[name](_call("Reducer.sum"))
    repeated = _call("Reducer.repeat", reducer=combinator, count=2)
    expression = {"result": "0", "values": {"0": _call("Reducer.getOutputs", reducer=repeated)}}
    response = client.post(URL, json={"expression": expression})
    assert response.status_code == 400, response.text
    assert "only simple reducers can be repeated" in response.json()["error"]["message"]
