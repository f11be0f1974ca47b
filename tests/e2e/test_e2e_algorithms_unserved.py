"""Earth Engine algorithms openee does not serve yet: listed, so the stock client builds them,
and a call answers 501 UNIMPLEMENTED naming the algorithm (not a client-side AttributeError)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

REFERENCE = Path(__file__).parents[2] / "src/openee/algorithms/data/ee_signatures.json"


def _reference_names() -> set[str]:
    return {a["name"] for a in json.loads(REFERENCE.read_text())["algorithms"]}


def test_the_listing_holds_every_earth_engine_algorithm(authed_session, server) -> None:
    url = f"{server.base_url}/v1/projects/{server.project}/algorithms"
    listed = authed_session.get(url).json()["algorithms"]
    names = [a["name"].removeprefix("algorithms/") for a in listed]
    assert sorted(names) == sorted(_reference_names())


def test_an_unserved_algorithm_answers_501_through_the_stock_client(ee_api) -> None:
    ee = ee_api
    from openee.algorithms import default_registry

    unserved = sorted(_reference_names() - set(default_registry().names()))
    if not unserved:  # everything is served: nothing can answer 501 any more
        return
    name = unserved[0]
    function = ee.ApiFunction.lookup(name)  # the client built it from the listing
    with pytest.raises(
        ee.EEException, match=re.escape(f"{name}: this Earth Engine algorithm is not")
    ):
        ee.ComputedObject(function, {}).getInfo()


def test_an_unknown_name_is_still_a_400(authed_session, server) -> None:
    url = f"{server.base_url}/v1/projects/{server.project}/value:compute"
    body = {
        "expression": {
            "result": "0",
            "values": {"0": {"functionInvocationValue": {"functionName": "Image.madeUp"}}},
        }
    }
    response = authed_session.post(url, json=body)
    assert response.status_code == 400
    assert response.json()["error"]["status"] == "INVALID_ARGUMENT"


def test_an_algorithm_unserved_on_purpose_answers_its_reason(ee_api) -> None:
    ee = ee_api
    # Earth Engine removed the old classifiers in 2021; the 501 says so and names the successor.
    with pytest.raises(ee.EEException, match=r"Classifier\.cart: .*not served.*smileCart"):
        ee.Classifier.cart().getInfo()
