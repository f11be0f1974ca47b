"""The Expression evaluator: node kinds, sharing, closures, and malformed graphs."""

from __future__ import annotations

from typing import Any

import pytest

from openee.algorithms import default_registry
from openee.algorithms.registry import Registry, build_algorithm
from openee.errors import InvalidArgumentError, UnknownAlgorithmError
from openee.graph.evaluate import evaluate


def call(name: str, **arguments: Any) -> dict[str, Any]:
    return {"functionInvocationValue": {"functionName": name, "arguments": arguments}}


def const(value: Any) -> dict[str, Any]:
    return {"constantValue": value}


def run(values: dict[str, Any], result: str = "0") -> Any:
    return evaluate({"result": result, "values": values}, default_registry())


def test_number_add() -> None:
    assert run({"0": call("Number.add", left=const(1), right=const(2))}) == 3


def test_every_constant_kind() -> None:
    node = {
        "arrayValue": {
            "values": [
                const(None),
                const(True),
                const(5),
                const(3.4),
                {"integerValue": "112233445566778899"},
                const("hello"),
                const({"a": 1, "b": [1, 2]}),
                {"bytesValue": "aGk="},
                {
                    "dictionaryValue": {
                        "values": {"k": call("Number.add", left=const(1), right=const(1))}
                    }
                },
            ]
        }
    }
    assert run({"0": node}) == [
        None,
        True,
        5,
        3.4,
        112233445566778899,
        "hello",
        {"a": 1, "b": [1, 2]},
        b"hi",
        {"k": 2},
    ]


def test_nested_lambdas_are_closures() -> None:
    # ee.List([1, 2]).map(lambda x: ee.List([10, 20]).map(lambda y: ee.Number(y).add(x)))
    values = {
        "2": call(
            "Number.add",
            left={"argumentReference": "_MAPPING_VAR_0_0"},
            right={"argumentReference": "_MAPPING_VAR_1_0"},
        ),
        "1": call(
            "List.map",
            baseAlgorithm={
                "functionDefinitionValue": {"argumentNames": ["_MAPPING_VAR_0_0"], "body": "2"}
            },
            dropNulls=const(False),
            list=const([10, 20]),
        ),
        "0": call(
            "List.map",
            baseAlgorithm={
                "functionDefinitionValue": {"argumentNames": ["_MAPPING_VAR_1_0"], "body": "1"}
            },
            dropNulls=const(False),
            list=const([1, 2]),
        ),
    }
    assert run(values) == [[11, 21], [12, 22]]


def test_iterate_passes_element_and_accumulator() -> None:
    values = {
        "1": call(
            "Number.add",
            left={"argumentReference": "_MAPPING_VAR_0_0"},
            right={"argumentReference": "_MAPPING_VAR_0_1"},
        ),
        "0": call(
            "List.iterate",
            list=const([1, 2, 3, 4]),
            function={
                "functionDefinitionValue": {
                    "argumentNames": ["_MAPPING_VAR_0_0", "_MAPPING_VAR_0_1"],
                    "body": "1",
                }
            },
            first=const(100),
        ),
    }
    assert run(values) == 110


def test_function_reference_invocation() -> None:
    values = {
        "f": {"functionDefinitionValue": {"argumentNames": ["a"], "body": "b"}},
        "b": call("Number.multiply", left={"argumentReference": "a"}, right=const(3)),
        "0": {"functionInvocationValue": {"functionReference": "f", "arguments": {"a": const(7)}}},
    }
    assert run(values) == 21


def test_shared_value_is_evaluated_once() -> None:
    calls: list[int] = []

    def counted(left: float, right: float) -> float:
        """Adds and counts.

        Args:
            left: The left value.
            right: The right value.
        """
        calls.append(1)
        return left + right

    registry = Registry()
    registry.add(build_algorithm("Number.add", counted))
    registry.add(build_algorithm("Number.multiply", counted))
    values = {
        "1": call("Number.add", left=const(1), right=const(2)),
        "0": call("Number.multiply", left={"valueReference": "1"}, right={"valueReference": "1"}),
    }
    assert evaluate({"result": "0", "values": values}, registry) == 6
    assert len(calls) == 2  # "1" once, "0" once


def test_defaults_are_applied() -> None:
    # List.slice without end/step: the signature's defaults (null) apply.
    assert run({"0": call("List.slice", list=const([1, 2, 3, 4]), start=const(1))}) == [2, 3, 4]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"0": call("Nope.nothing")}, "Unknown algorithm: 'Nope.nothing'"),
        ({"0": call("Number.add", left=const(1))}, "Number.add: Parameter 'right' is required."),
        (
            {"0": call("Number.add", left=const("a"), right=const(1))},
            "Number.add, argument 'left': Invalid type.\nExpected type: Number.\nActual type: String.",
        ),
        (
            {"0": call("Number.add", left=const(1), right=const(1), extra=const(1))},
            "Number.add: Unrecognized arguments: extra.",
        ),
        ({"0": {"valueReference": "9"}}, "Reference to an undefined value '9'"),
        ({"0": {"valueReference": "1"}, "1": {"valueReference": "0"}}, "cycle"),
        ({"0": {"argumentReference": "x"}}, "undefined function argument 'x'"),
        ({"0": {"constantValue": 1, "integerValue": "2"}}, "exactly one of"),
        ({"0": "not a node"}, "expected an object"),
    ],
)
def test_malformed_graphs_are_invalid_arguments(values: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        run(values)
    assert message in info.value.message


def test_unknown_algorithm_error_type() -> None:
    with pytest.raises(UnknownAlgorithmError):
        run({"0": call("Image.doesNotExist")})


@pytest.mark.parametrize("expression", [None, [], {"values": {}}, {"result": "0", "values": {}}])
def test_expression_shape_is_checked(expression: Any) -> None:
    with pytest.raises(InvalidArgumentError):
        evaluate(expression, default_registry())


def test_errors_name_the_innermost_algorithm_once() -> None:
    values = {
        "0": call(
            "Number.add",
            left=call("List.get", list=const([1]), index=const(5)),
            right=const(1),
        )
    }
    with pytest.raises(InvalidArgumentError) as info:
        run(values)
    assert info.value.message.startswith("List.get: List index out of bounds")


def test_if_evaluates_only_the_branch_it_takes() -> None:
    failing = call("List.get", list=const([]), index=const(3))  # an error if evaluated
    taken = {"0": call("If", condition=const(1), trueCase=const("yes"), falseCase=failing)}
    assert run(taken) == "yes"
    other = {"0": call("If", condition=const(0), trueCase=failing, falseCase=const("no"))}
    assert run(other) == "no"
    with pytest.raises(InvalidArgumentError, match=r"List\.get"):
        run({"0": call("If", condition=const(1), trueCase=failing, falseCase=const("no"))})
