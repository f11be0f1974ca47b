"""The algorithm registry: one decorated function per Earth Engine algorithm.

A function's Python signature is its wire signature: parameter names as Earth Engine spells them
(a trailing underscore escapes a Python keyword: `and_` is `and`), order, optionality and defaults.
Registration checks that against Earth Engine's published signature (bundled in
`data/ee_signatures.json`, from the earthengine-api wheel) so that a mismatch fails at import,
never at request time; the served types are Earth Engine's exact type strings. The docstring's
first paragraph is the description; its `Args:` section documents every argument.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, TypeVar

from openee.algorithms.unserved import REASONS
from openee.errors import AlgorithmNotServedError, UnknownAlgorithmError

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Argument:
    name: str
    type: str
    description: str
    optional: bool = False
    default: Any = None
    param: str = ""  # the Python parameter name, when it differs (a keyword escaped with _)

    def wire(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "argumentName": self.name,
            "type": self.type,
            "description": self.description,
        }
        if self.optional:
            out["optional"] = True
            out["defaultValue"] = self.default
        return out


@dataclass(frozen=True)
class Algorithm:
    name: str
    func: Callable[..., Any]
    arguments: tuple[Argument, ...]
    returns: str
    description: str
    hidden: bool = False
    # Arguments passed as zero-argument callables, evaluated only if the algorithm asks
    # (Earth Engine's If evaluates only the branch it takes).
    lazy: frozenset[str] = frozenset()

    def wire(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": f"algorithms/{self.name}",
            "description": self.description,
            "returnType": self.returns,
            "arguments": [a.wire() for a in self.arguments],
        }
        if self.hidden:
            out["hidden"] = True
        return out


@cache
def ee_signatures() -> dict[str, dict[str, Any]]:
    """Earth Engine's 991 algorithm signatures, by name."""
    text = resources.files("openee.algorithms").joinpath("data/ee_signatures.json").read_text()
    return {a["name"]: a for a in json.loads(text)["algorithms"]}


def _unserved_wire(reference: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": f"algorithms/{reference['name']}",
        "description": (
            f"Not served by openee ({REASONS[reference['name']]}): a call answers 501 UNIMPLEMENTED."
            if reference["name"] in REASONS
            else "Not implemented in openee yet: a call answers 501 UNIMPLEMENTED."
        ),
        "returnType": reference.get("returnType", ""),
        "arguments": [{**a, "description": ""} for a in reference.get("arguments", [])],
    }
    if reference.get("hidden"):
        out["hidden"] = True
    return out


class RegistrationError(Exception):
    """A registered function does not match Earth Engine's signature (a programming error)."""


class Registry:
    def __init__(self) -> None:
        self._algorithms: dict[str, Algorithm] = {}

    def __contains__(self, name: str) -> bool:
        return name in self._algorithms

    def __len__(self) -> int:
        return len(self._algorithms)

    def names(self) -> list[str]:
        return sorted(self._algorithms)

    def lookup(self, name: str) -> Algorithm:
        try:
            return self._algorithms[name]
        except KeyError:
            if name in ee_signatures():
                raise AlgorithmNotServedError(name, REASONS.get(name)) from None
            raise UnknownAlgorithmError(name) from None

    def add(self, algorithm: Algorithm) -> None:
        if algorithm.name in self._algorithms:
            raise RegistrationError(f"{algorithm.name} is registered twice")
        self._algorithms[algorithm.name] = algorithm

    def wire(self) -> list[dict[str, Any]]:
        """The served algorithms, as `algorithms.list` describes them."""
        return [self._algorithms[n].wire() for n in self.names()]

    def wire_listing(self) -> list[dict[str, Any]]:
        """Every Earth Engine algorithm: the served ones, and the others with Earth Engine's
        signature and a description saying that a call answers 501 UNIMPLEMENTED.

        The stock client builds `ee.Array.sqrt` and the like from this list; an algorithm absent
        from it is absent from the user's client, where calling it fails with an AttributeError
        that says nothing. Listed, the call reaches the server and gets a clear answer.
        """
        unserved = [
            _unserved_wire(ref) for n, ref in ee_signatures().items() if n not in self._algorithms
        ]
        return sorted(self.wire() + unserved, key=lambda a: str(a["name"]))

    def register(self, name: str, lazy: tuple[str, ...] = ()) -> Callable[[F], F]:
        def decorate(func: F) -> F:
            self.add(build_algorithm(name, func, frozenset(lazy)))
            return func

        return decorate


def _wire_name(param: str) -> str:
    return param[:-1] if param.endswith("_") else param


def _doc_args(doc: str) -> tuple[str, dict[str, str]]:
    """Split a Google-style docstring into its description and its `Args:` entries."""
    parts = re.split(r"\n\s*Args:\s*\n", doc, maxsplit=1)
    description = " ".join(parts[0].split())
    args: dict[str, str] = {}
    if len(parts) == 2:
        current = None
        for line in parts[1].splitlines():
            match = re.match(r"^\s{4,}(\w+):\s*(.*)$", line)
            if match and (current is None or len(line) - len(line.lstrip()) <= 8):
                current = _wire_name(match.group(1))
                args[current] = match.group(2).strip()
            elif current and line.strip():
                args[current] += " " + line.strip()
    return description, args


def build_algorithm(
    name: str, func: Callable[..., Any], lazy: frozenset[str] = frozenset()
) -> Algorithm:
    """Check `func` against Earth Engine's signature of `name` and describe it."""
    reference = ee_signatures().get(name)
    if reference is None:
        raise RegistrationError(f"{name} is not an Earth Engine algorithm")
    description, doc_args = _doc_args(inspect.getdoc(func) or "")
    if not description:
        raise RegistrationError(f"{name}: no description")
    params = list(inspect.signature(func).parameters.values())
    ref_args = reference.get("arguments", [])
    names = [_wire_name(p.name) for p in params]
    ref_names = [a["argumentName"] for a in ref_args]
    if names != ref_names:
        raise RegistrationError(f"{name}: arguments {names} differ from Earth Engine's {ref_names}")
    arguments = []
    for param, ref in zip(params, ref_args, strict=True):
        wire = _wire_name(param.name)
        if param.kind not in (param.POSITIONAL_OR_KEYWORD, param.KEYWORD_ONLY):
            raise RegistrationError(f"{name}: *args/**kwargs are not allowed")
        if param.annotation is inspect.Parameter.empty:
            raise RegistrationError(f"{name}: argument {wire} has no type annotation")
        optional = bool(ref.get("optional", False))
        has_default = param.default is not inspect.Parameter.empty
        if optional != has_default:
            raise RegistrationError(f"{name}: optionality of {wire} differs from Earth Engine's")
        if optional and param.default != ref.get("defaultValue"):
            raise RegistrationError(
                f"{name}: default of {wire} is {param.default!r}, Earth Engine's is "
                f"{ref.get('defaultValue')!r}"
            )
        if not doc_args.get(wire):
            raise RegistrationError(f"{name}: argument {wire} is not documented")
        arguments.append(
            Argument(
                wire, ref["type"], doc_args[wire], optional, ref.get("defaultValue"), param.name
            )
        )
    return Algorithm(
        name=name,
        func=func,
        arguments=tuple(arguments),
        returns=reference.get("returnType", ""),
        description=description,
        hidden=bool(reference.get("hidden", False)),
        lazy=lazy,
    )


# The registry that the algorithm family modules register into.
REGISTRY = Registry()
algorithm = REGISTRY.register
