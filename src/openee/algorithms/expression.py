"""Image.expression: a small, safe parser for Earth Engine's band-math expressions.

The client sends `Image.parseExpression(expression, argName, vars)`, whose result is a function
of named images that the expression graph then invokes. The text is tokenized and parsed here by
a Pratt parser into a tree, and the tree is applied with the same image operators the
`Image.add`, `Image.gt`, ... algorithms use. Nothing is ever passed to Python's eval.

Grammar: numbers; `b('name')`, `b(0)`; bare band names of the default image; `img.band`,
`img[0]`, `img['band']` and `img` for the images in `vars`; unary `-`, `+`, `!`, `~`; binary
`** * / % + - << >> < <= > >= == != & ^ | && ||`; `cond ? a : b`; and the functions below.

Semantics (docs/decisions/0022): operators are the Image operators, so `/` of integer bands is
floating point, as Earth Engine's NDVI sample `(b(4) - b(3)) / (b(4) + b(3))` on uint16 bands
shows; but arithmetic between integer literals alone is integer arithmetic, as the Image math
guide documents (`10 / 20` is 0, `10 * 1.0 / 20` is 0.5). `^` is a logical xor, `&` and `|`
bitwise (Earth Engine documents only `&& || ! ^`).

A leading `name = ` assignment names the (single-band) result (Earth Engine documents it).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from openee.algorithms.image_math import combine
from openee.algorithms.registry import algorithm
from openee.errors import InvalidArgumentError
from openee.raster.bandmath import BinaryBand, UnaryBand, WhereBand
from openee.raster.image import Image, constant_image
from openee.raster.sources import CastBand

_TOKEN = re.compile(
    r"\s*(?:(?P<number>\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<string>'[^']*'|\"[^\"]*\")"
    r"|(?P<op>\*\*|<<|>>|<=|>=|==|!=|&&|\|\||[-+*/%<>!~&^|?:().,\[\]]))"
)

# Binary operators: (binding power, image operator).
_BINARY: dict[str, tuple[int, str]] = {
    "||": (1, "or"),
    "&&": (2, "and"),
    "|": (3, "bitwiseOr"),
    "^": (4, "xor"),  # logical, as Earth Engine lists it (with && || !), not bitwise
    "&": (5, "bitwiseAnd"),
    "==": (6, "eq"),
    "!=": (6, "neq"),
    "<": (7, "lt"),
    "<=": (7, "lte"),
    ">": (7, "gt"),
    ">=": (7, "gte"),
    "<<": (8, "leftShift"),
    ">>": (8, "rightShift"),
    "+": (9, "add"),
    "-": (9, "subtract"),
    "*": (10, "multiply"),
    "/": (10, "divide"),
    "%": (10, "mod"),
    "**": (12, "pow"),
}
_TERNARY_POWER = 0

_UNARY_FUNCTIONS = {
    "abs", "sqrt", "exp", "log", "log10", "sin", "cos", "tan", "asin", "acos", "atan",
    "sinh", "cosh", "tanh", "floor", "ceil", "round", "signum", "cbrt",
}  # fmt: skip
_CASTS = {"float": "float32", "double": "float64", "int": "int32", "byte": "uint8", "long": "int64"}
_BINARY_FUNCTIONS = {"min": "min", "max": "max", "pow": "pow", "atan2": "atan2", "hypot": "hypot"}


@dataclass(frozen=True)
class Token:
    kind: str
    text: str


def tokenize(text: str, pattern: re.Pattern[str] = _TOKEN, what: str = "Expression") -> list[Token]:
    """The tokens of `text` by `pattern`'s named groups (each group's name is the token's kind),
    ending with an `end` token; `what` names the grammar in a syntax error."""
    tokens: list[Token] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        match = pattern.match(text, pos)
        if match is None or match.end() == pos:
            raise InvalidArgumentError(
                f"{what} syntax error at position {pos}: '{text[pos : pos + 10]}'."
            )
        kind = match.lastgroup
        assert kind is not None
        tokens.append(Token(kind, match.group(kind)))
        pos = match.end()
    tokens.append(Token("end", ""))
    return tokens


Node = tuple[Any, ...]


class Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.pos = 0

    def peek(self) -> Token:
        return self.tokens[self.pos]

    def take(self, text: str | None = None) -> Token:
        token = self.tokens[self.pos]
        if text is not None and token.text != text:
            raise InvalidArgumentError(
                f"Expression syntax error: expected '{text}', got '{token.text or 'end'}'."
            )
        self.pos += 1
        return token

    def parse(self) -> Node:
        node = self.expression(_TERNARY_POWER)
        if self.peek().kind != "end":
            raise InvalidArgumentError(f"Expression syntax error: unexpected '{self.peek().text}'.")
        return node

    def expression(self, min_power: int) -> Node:
        left = self.prefix()
        while True:
            token = self.peek()
            if token.text == "?" and min_power <= _TERNARY_POWER:
                self.take()
                when_true = self.expression(_TERNARY_POWER)
                self.take(":")
                when_false = self.expression(_TERNARY_POWER)
                left = ("ternary", left, when_true, when_false)
                continue
            if token.kind != "op" or token.text not in _BINARY:
                return left
            power, op = _BINARY[token.text]
            if power < min_power or (power == min_power and token.text != "**"):
                return left
            self.take()
            # ** is right-associative; the others are left-associative.
            right = self.expression(power if token.text == "**" else power + 1)
            left = ("binary", op, left, right)

    def prefix(self) -> Node:
        token = self.take()
        if token.kind == "number":
            return (
                "number",
                float(token.text) if re.search(r"[.eE]", token.text) else int(token.text),
            )
        if token.kind == "string":
            return ("string", token.text[1:-1])
        if token.text == "(":
            node = self.expression(_TERNARY_POWER)
            self.take(")")
            return self.postfix(node)
        if token.text in ("-", "+", "!", "~"):
            operand = self.expression(11)
            if token.text == "-":
                return ("binary", "subtract", ("number", 0), operand)
            if token.text == "!":
                return ("unary", "not", operand)
            if token.text == "~":
                return ("unary", "bitwiseNot", operand)
            return operand
        if token.kind == "name":
            if self.peek().text == "(":
                self.take("(")
                args = []
                if self.peek().text != ")":
                    args.append(self.expression(_TERNARY_POWER))
                    while self.peek().text == ",":
                        self.take(",")
                        args.append(self.expression(_TERNARY_POWER))
                self.take(")")
                return self.postfix(("call", token.text, args))
            return self.postfix(("name", token.text))
        raise InvalidArgumentError(f"Expression syntax error: unexpected '{token.text or 'end'}'.")

    def postfix(self, node: Node) -> Node:
        while self.peek().text in (".", "["):
            if self.take().text == ".":
                node = ("select", node, ("string", self.take().text))
            else:
                index = self.expression(_TERNARY_POWER)
                self.take("]")
                node = ("select", node, index)
        return node


def _select(image: Image, selector: Node) -> Image:
    if selector[0] not in ("string", "number"):
        raise InvalidArgumentError("Band selectors must be names or indices.")
    return image.select([selector[1]])


def apply(node: Node, images: Mapping[str, Image], default: str) -> Image:
    """The image a parsed expression computes, given the named input images."""
    kind = node[0]
    if kind == "number":
        return constant_image([node[1]])
    if kind == "string":
        raise InvalidArgumentError(f"Unexpected string '{node[1]}' in expression.")
    if kind == "name":
        name = node[1]
        if name in images:
            return images[name]
        if name in ("PI", "E"):
            return constant_image([math.pi if name == "PI" else math.e])
        return images[default].select([name])
    if kind == "select":
        return _select(apply(node[1], images, default), node[2])
    if kind == "binary":
        literal = _integer_literal(node)
        if literal is not None:
            return constant_image([literal])
        op = node[1]
        return combine(
            apply(node[2], images, default),
            apply(node[3], images, default),
            lambda a, b: BinaryBand(op, a, b),
        )
    if kind == "unary":
        op = node[1]
        operand = apply(node[2], images, default)
        return operand.map_bands(lambda band: replace(band, source=UnaryBand(op, band.source)))
    if kind == "ternary":
        test = apply(node[1], images, default)
        when_true = apply(node[2], images, default)
        when_false = apply(node[3], images, default)
        tested = combine(when_false, test, lambda f, t: WhereBand(f, t, f))
        return combine(
            tested,
            when_true,
            lambda w, v: WhereBand(w.input, w.test, v) if isinstance(w, WhereBand) else w,
        )
    if kind == "call":
        name, args = node[1], node[2]
        if name == "b":
            if not args:
                return images[default]
            return images[default].select(
                [a[1] for a in args if a[0] in ("string", "number")] or [None]
            )
        if name in _UNARY_FUNCTIONS and len(args) == 1:
            operand = apply(args[0], images, default)
            return operand.map_bands(
                lambda band: replace(band, source=UnaryBand(name, band.source))
            )
        if name in _CASTS and len(args) == 1:
            dtype = _CASTS[name]
            operand = apply(args[0], images, default)
            return operand.map_bands(
                lambda band: replace(band, source=CastBand(band.source, dtype))
            )
        if name in _BINARY_FUNCTIONS and len(args) == 2:
            op = _BINARY_FUNCTIONS[name]
            return combine(
                apply(args[0], images, default),
                apply(args[1], images, default),
                lambda a, b: BinaryBand(op, a, b),
            )
        raise InvalidArgumentError(
            f"Unknown function '{name}' with {len(args)} arguments in expression."
        )
    raise InvalidArgumentError("Invalid expression.")


_INTEGER_OPS: dict[str, Callable[[int, int], int]] = {
    "add": lambda a, b: a + b,
    "subtract": lambda a, b: a - b,
    "multiply": lambda a, b: a * b,
    # Truncating toward zero: the remainder it discards is that of `%`, which has the dividend's
    # sign (Earth Engine's Number.mod sample: -12 % 5 = -2). Division by zero gives 0.
    "divide": lambda a, b: 0 if b == 0 else (a - _remainder(a, b)) // b,
    "mod": lambda a, b: 0 if b == 0 else _remainder(a, b),
}


def _remainder(a: int, b: int) -> int:
    r = abs(a) % abs(b)
    return -r if a < 0 else r


def _integer_literal(node: Node) -> int | None:
    """The value of a subtree made only of integer literals and + - * / %, computed in integer
    arithmetic as Earth Engine's expression does ("10 / 20 = 0"); None for anything else."""
    if node[0] == "number":
        return node[1] if isinstance(node[1], int) else None
    if node[0] != "binary" or node[1] not in _INTEGER_OPS:
        return None
    left, right = _integer_literal(node[2]), _integer_literal(node[3])
    if left is None or right is None:
        return None
    return _INTEGER_OPS[node[1]](left, right)


@algorithm("Image.parseExpression")
def parse_expression(
    expression: str, argName: str, vars: list[str], mapFreeVarsToDefaultImageBands: bool = False
) -> Callable[..., Image]:
    """Parses a band-math expression into a function of the named images.

    Args:
        expression: The expression, e.g. '(b("B8") - B4) / (B8 + B4)'.
        argName: The name of the default image, whose bands are b(...) and bare names.
        vars: The names of every image the function takes, the default one included.
        mapFreeVarsToDefaultImageBands: Accepted for compatibility; bare names that are not
            images always name bands of the default image.
    """
    # 'x = a + b' names the (single-band) result x, as Earth Engine documents.
    assignment = _ASSIGNMENT.match(expression)
    target = assignment.group(1) if assignment else None
    tree = Parser(expression[assignment.end() :] if assignment else expression).parse()
    names = list(vars)

    def evaluate(**images: Any) -> Image:
        missing = [n for n in names if n not in images]
        if missing:
            raise InvalidArgumentError(f"Expression is missing images: {missing}.")
        result = apply(tree, {n: _as_image(images[n]) for n in names}, argName)
        if target is None:
            return result
        if len(result.bands) != 1:
            raise InvalidArgumentError(
                f"Only a single-band result can be assigned a name; '{target}' would get "
                f"{len(result.bands)} bands."
            )
        return result.rename([target])

    return evaluate


_ASSIGNMENT = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*=(?!=)")


def _as_image(value: object) -> Image:
    if isinstance(value, Image):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return constant_image([value])
    raise InvalidArgumentError("Expression inputs must be images.")
