"""Evaluate an Earth Engine Expression: `{"result": key, "values": {key: ValueNode}}`.

Keys are evaluated lazily and at most once per binding of the function arguments they depend on,
so a node shared through `valueReference` is computed once. `functionDefinitionValue` becomes a
Python callable closing over the current arguments (the client's nested lambdas are closures).
"""

from __future__ import annotations

import base64
import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from openee.algorithms.coerce import coerce
from openee.algorithms.registry import Algorithm, Argument, Registry
from openee.engine import deadline
from openee.errors import InvalidArgumentError, OpeneeError
from openee.graph.record import record
from openee.values.size import check_top_level

Env = Mapping[str, Any]

_KINDS = (
    "constantValue",
    "integerValue",
    "bytesValue",
    "arrayValue",
    "dictionaryValue",
    "functionDefinitionValue",
    "functionInvocationValue",
    "argumentReference",
    "valueReference",
)


class ExpressionError(InvalidArgumentError):
    """The expression graph itself is malformed."""


def _kind(node: object) -> str:
    if not isinstance(node, dict):
        raise ExpressionError(f"Invalid ValueNode: expected an object, got {type(node).__name__}.")
    kinds = [k for k in node if k in _KINDS]
    if len(kinds) != 1:
        raise ExpressionError(
            f"Invalid ValueNode: exactly one of {', '.join(_KINDS)} must be set "
            f"(got {sorted(node)[:5]})."
        )
    return kinds[0]


@dataclass
class Closure:
    """A function defined in the expression, closed over the arguments in scope."""

    evaluator: Evaluator
    argument_names: tuple[str, ...]
    body: str
    env: Env

    def __call__(self, *args: Any) -> Any:
        if len(args) != len(self.argument_names):
            raise InvalidArgumentError(
                f"Function expects {len(self.argument_names)} arguments, got {len(args)}."
            )
        return self.evaluator.eval_key(
            self.body, {**self.env, **dict(zip(self.argument_names, args, strict=True))}
        )

    def call_named(self, kwargs: Mapping[str, Any]) -> Any:
        missing = [n for n in self.argument_names if n not in kwargs]
        if missing:
            raise InvalidArgumentError(f"Function is missing arguments {missing}.")
        return self(*[kwargs[n] for n in self.argument_names])


class Evaluator:
    def __init__(self, expression: object, registry: Registry) -> None:
        if not isinstance(expression, dict):
            raise ExpressionError("The expression must be an object with 'result' and 'values'.")
        values = expression.get("values")
        result = expression.get("result")
        if not isinstance(values, dict) or not isinstance(result, str):
            raise ExpressionError("The expression must have 'values' (an object) and 'result'.")
        if result not in values:
            raise ExpressionError(f"The expression's result '{result}' is not in its values.")
        self.values: dict[str, Any] = values
        self.result = result
        self.registry = registry
        self._free: dict[str, frozenset[str]] = {}
        self._memo: dict[tuple[Any, ...], tuple[Any, list[Any]]] = {}
        self._active: set[tuple[Any, ...]] = set()

    def evaluate(self) -> Any:
        try:
            return self.eval_key(self.result, {})
        except RecursionError:
            raise ExpressionError("The expression is nested too deeply.") from None

    # -- keys, sharing and memoization ---------------------------------------------------------

    def _node(self, key: str) -> Any:
        if not isinstance(key, str) or key not in self.values:
            raise ExpressionError(f"Reference to an undefined value '{key}'.")
        return self.values[key]

    def free_vars(self, key: str, visiting: frozenset[str] = frozenset()) -> frozenset[str]:
        """The function arguments that the value at `key` depends on."""
        if key in self._free:
            return self._free[key]
        if key in visiting:
            raise ExpressionError(f"The expression has a cycle through value '{key}'.")
        found = self._node_free(self._node(key), visiting | {key})
        self._free[key] = found
        return found

    def _node_free(self, node: Any, visiting: frozenset[str]) -> frozenset[str]:
        kind = _kind(node)
        body = node[kind]
        if kind == "argumentReference":
            return frozenset([str(body)])
        if kind == "valueReference":
            return self.free_vars(body, visiting)
        if kind == "functionDefinitionValue":
            names = frozenset(body.get("argumentNames", []) if isinstance(body, dict) else [])
            return self.free_vars(str(body.get("body")), visiting) - names
        if kind == "functionInvocationValue" and isinstance(body, dict):
            out: frozenset[str] = frozenset()
            if "functionReference" in body:
                out |= self.free_vars(body["functionReference"], visiting)
            for arg in (body.get("arguments") or {}).values():
                out |= self._node_free(arg, visiting)
            return out
        if kind == "arrayValue" and isinstance(body, dict):
            return frozenset().union(
                *[self._node_free(v, visiting) for v in body.get("values", [])]
            )
        if kind == "dictionaryValue" and isinstance(body, dict):
            return frozenset().union(
                *[self._node_free(v, visiting) for v in (body.get("values") or {}).values()]
            )
        return frozenset()

    def eval_key(self, key: str, env: Env) -> Any:
        free = sorted(self.free_vars(key))
        unbound = [n for n in free if n not in env]
        if unbound:
            raise ExpressionError(f"Reference to an undefined function argument '{unbound[0]}'.")
        memo_key = (key, *[(n, id(env[n])) for n in free])
        if memo_key in self._memo:
            return self._memo[memo_key][0]
        if memo_key in self._active:
            raise ExpressionError(f"The expression has a cycle through value '{key}'.")
        self._active.add(memo_key)
        try:
            value = self.eval_node(self._node(key), env)
        finally:
            self._active.discard(memo_key)
        # Keep the bound arguments alive so that their ids cannot be reused by other objects.
        self._memo[memo_key] = (value, [env[n] for n in free])
        return value

    # -- nodes ----------------------------------------------------------------------------------

    def eval_node(self, node: Any, env: Env) -> Any:
        kind = _kind(node)
        body = node[kind]
        if kind == "constantValue":
            return copy.deepcopy(body)
        if kind == "integerValue":
            try:
                return int(body)
            except (TypeError, ValueError):
                raise ExpressionError(f"Invalid integerValue '{body}'.") from None
        if kind == "bytesValue":
            try:
                return base64.b64decode(str(body), validate=True)
            except ValueError:
                raise ExpressionError("Invalid base64 in bytesValue.") from None
        if kind == "valueReference":
            return self.eval_key(body, env)
        if kind == "argumentReference":
            if body not in env:
                raise ExpressionError(f"Reference to an undefined function argument '{body}'.")
            return env[body]
        if kind == "arrayValue":
            if not isinstance(body, dict) or not isinstance(body.get("values", []), list):
                raise ExpressionError("Invalid arrayValue: 'values' must be a list.")
            return [self.eval_node(v, env) for v in body.get("values", [])]
        if kind == "dictionaryValue":
            if not isinstance(body, dict) or not isinstance(body.get("values", {}), dict):
                raise ExpressionError("Invalid dictionaryValue: 'values' must be an object.")
            return {k: self.eval_node(v, env) for k, v in body.get("values", {}).items()}
        if kind == "functionDefinitionValue":
            if not isinstance(body, dict) or not isinstance(body.get("body"), str):
                raise ExpressionError("Invalid functionDefinitionValue: 'body' must be a key.")
            names = body.get("argumentNames", [])
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                raise ExpressionError("Invalid functionDefinitionValue: bad 'argumentNames'.")
            self._node(body["body"])
            return Closure(self, tuple(names), body["body"], dict(env))
        return self._invoke(body, env)

    def _invoke(self, body: Any, env: Env) -> Any:
        if not isinstance(body, dict):
            raise ExpressionError("Invalid functionInvocationValue.")
        arguments = body.get("arguments") or {}
        if not isinstance(arguments, dict):
            raise ExpressionError("Invalid functionInvocationValue: 'arguments' must be an object.")
        if "functionReference" in body:
            function = self.eval_key(body["functionReference"], env)
            named = {k: self.eval_node(v, env) for k, v in arguments.items()}
            if isinstance(function, Closure):
                return function.call_named(named)
            if callable(function):  # a function computed by an algorithm (Image.parseExpression)
                return function(**named)
            raise ExpressionError("functionReference does not refer to a function.")
        name = body.get("functionName")
        if not isinstance(name, str):
            raise ExpressionError("functionInvocationValue needs a functionName.")
        return self.call(self.registry.lookup(name), arguments, env)

    def _argument(
        self, algorithm: Algorithm, arg: Argument, arguments: Mapping[str, Any], env: Env
    ) -> Any:
        """One argument's value: evaluated, defaulted and type-checked."""
        if arg.name in arguments:
            value = self.eval_node(arguments[arg.name], env)
        elif arg.optional:
            value = copy.deepcopy(arg.default)
        else:
            raise InvalidArgumentError(f"Parameter '{arg.name}' is required.").in_algorithm(
                algorithm.name
            )
        try:
            return coerce(value, arg.type, arg.name, arg.optional)
        except OpeneeError as exc:
            raise exc.in_algorithm(f"{algorithm.name}, argument '{arg.name}'") from None

    def _thunk(self, algorithm: Algorithm, arg: Argument, node: Any, env: Env) -> Any:
        """A lazy argument: evaluated when (and if) the algorithm calls it."""
        arguments = {} if node is None else {arg.name: node}

        def thunk() -> Any:
            return self._argument(algorithm, arg, arguments, env)

        return thunk

    def call(self, algorithm: Algorithm, arguments: Mapping[str, Any], env: Env) -> Any:
        known = {a.name for a in algorithm.arguments}
        unknown = sorted(set(arguments) - known)
        if unknown:
            raise InvalidArgumentError(
                f"Unrecognized arguments: {', '.join(unknown)}. "
                f"Valid arguments: {', '.join(a.name for a in algorithm.arguments)}."
            ).in_algorithm(algorithm.name)
        record(algorithm.name)
        deadline.check()
        kwargs: dict[str, Any] = {}
        for arg in algorithm.arguments:
            if arg.name in algorithm.lazy:
                kwargs[arg.param or arg.name] = self._thunk(
                    algorithm, arg, arguments.get(arg.name), env
                )
                continue
            kwargs[arg.param or arg.name] = self._argument(algorithm, arg, arguments, env)
        try:
            result = algorithm.func(**kwargs)
            check_top_level(result)  # doubling (List.cat(l, l), ...) stops at twice the bound
        except OpeneeError as exc:
            raise exc.in_algorithm(algorithm.name) from None
        return result


def evaluate(expression: object, registry: Registry) -> Any:
    """Evaluate an Expression and return its result value (not yet JSON)."""
    return Evaluator(expression, registry).evaluate()
