"""The registry contract: Earth Engine's signatures exactly, descriptions, documented arguments."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from openee.algorithms import default_registry
from openee.algorithms.registry import RegistrationError, Registry, build_algorithm, ee_signatures

REFERENCE = Path(__file__).parents[2] / "src/openee/algorithms/data/ee_signatures.json"


def test_served_signatures_equal_earth_engines() -> None:
    reference = {a["name"]: a for a in json.loads(REFERENCE.read_text())["algorithms"]}
    served = default_registry().wire()
    assert len(served) >= 100
    for algo in served:
        name = algo["name"].removeprefix("algorithms/")
        ref = reference[name]
        assert algo["returnType"] == ref["returnType"], name
        got = [
            (a["argumentName"], a["type"], a.get("optional", False), a.get("defaultValue"))
            for a in algo["arguments"]
        ]
        want = [
            (a["argumentName"], a["type"], a.get("optional", False), a.get("defaultValue"))
            for a in ref.get("arguments", [])
        ]
        assert got == want, name


def test_every_algorithm_is_described_and_documented() -> None:
    for algo in default_registry().wire():
        assert algo["description"], algo["name"]
        for arg in algo["arguments"]:
            assert arg["description"], f"{algo['name']}.{arg['argumentName']}"


def test_a_wrong_argument_name_fails_at_registration() -> None:
    def add(a: float, right: float) -> float:
        """Adds.

        Args:
            a: Left.
            right: Right.
        """
        return a + right

    with pytest.raises(RegistrationError, match="differ from Earth Engine's"):
        build_algorithm("Number.add", add)


def test_a_wrong_default_fails_at_registration() -> None:
    def select(
        input: object,
        bandSelectors: list[object],
        newNames: list[str] | None = [],  # noqa: B006 - the wrong default under test
    ) -> object:
        """Selects.

        Args:
            input: Image.
            bandSelectors: Selectors.
            newNames: Names.
        """
        return input

    with pytest.raises(RegistrationError, match="default of newNames"):
        build_algorithm("Image.select", select)


def test_an_undocumented_argument_fails_at_registration() -> None:
    def add(left: float, right: float) -> float:
        """Adds.

        Args:
            left: Left.
        """
        return left + right

    with pytest.raises(RegistrationError, match="right is not documented"):
        build_algorithm("Number.add", add)


def test_unknown_names_and_duplicates_are_refused() -> None:
    def nothing() -> None:
        """Nothing."""

    with pytest.raises(RegistrationError, match="not an Earth Engine algorithm"):
        build_algorithm("Image.madeUp", nothing)
    registry = Registry()

    def mean() -> None:
        """Mean."""

    registry.add(build_algorithm("Reducer.mean", mean))
    with pytest.raises(RegistrationError, match="twice"):
        registry.add(build_algorithm("Reducer.mean", mean))


def test_reference_has_991_signatures() -> None:
    assert len(ee_signatures()) == 991


def test_a_listed_but_unserved_algorithm_is_unimplemented_not_unknown() -> None:
    from openee.errors import AlgorithmNotServedError, UnknownAlgorithmError

    registry = Registry()
    with pytest.raises(AlgorithmNotServedError, match=r"Image\.add: this Earth Engine algorithm"):
        registry.lookup("Image.add")
    with pytest.raises(UnknownAlgorithmError):
        registry.lookup("Image.madeUp")
    assert len(registry.wire_listing()) == 991


def test_every_reason_not_to_serve_names_an_unserved_earth_engine_algorithm() -> None:
    from openee.algorithms.unserved import REASONS
    from openee.errors import AlgorithmNotServedError

    registry = default_registry()
    for name, reason in REASONS.items():
        assert name in ee_signatures(), name
        assert name not in registry, f"{name} is served: drop its reason not to serve it"
        with pytest.raises(AlgorithmNotServedError, match=re.escape(reason)):
            registry.lookup(name)
