"""Filter.expression and string filters: `collection.filter('name == "Slovenia"')`.

The stock client sends a string filter as it is (`Collection.filter(collection, 'a < 5')`) and
Earth Engine parses it into a filter tree. So does this module: the text becomes the same
filter objects `Filter.eq`, `Filter.and`, ... build, so a string filter is pushed down into the
catalog exactly as the equivalent `ee.Filter` is.

Grammar (Earth Engine's ee.Filter.expression documents `> >= < <= == != ( ) ! && ||`):

    expression := or
    or         := and ('||' and)*
    and        := not ('&&' not)*
    not        := '!' not | '(' expression ')' | comparison
    comparison := operand ('==' | '!=' | '<' | '<=' | '>' | '>=') operand
    operand    := property name | number | 'string' | "string" | true | false | null

Property names may hold letters, digits, '_', ':' and '.' (`system:time_start`). A comparison
of a property with a value is `Filter.<op>(property, value)`; with the value on the left it is
mirrored; two properties are compared element by element. Nothing is ever passed to eval.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from openee.algorithms.expression import Token, tokenize
from openee.algorithms.registry import algorithm
from openee.errors import InvalidArgumentError
from openee.values.filter import (
    AndFilter,
    BinaryFilter,
    CompareFilter,
    ElementFilter,
    Filter,
    NotFilter,
    OrFilter,
)

_TOKEN = re.compile(
    r"\s*(?:(?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_:.]*)"
    r"|(?P<string>'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")"
    r"|(?P<op><=|>=|==|!=|&&|\|\||[<>!()-]))"
)

# Comparison operator -> (filter name, the filter name with the operands swapped).
_COMPARISONS = {
    "==": ("equals", "equals"),
    "!=": ("notEquals", "notEquals"),
    "<": ("lessThan", "greaterThan"),
    "<=": ("lessThanOrEquals", "greaterThanOrEquals"),
    ">": ("greaterThan", "lessThan"),
    ">=": ("greaterThanOrEquals", "lessThanOrEquals"),
}
_LITERALS: dict[str, object] = {"true": True, "false": False, "null": None}
# Nesting bound: the parser recurses once per '(' or '!'; deeper text is refused, not a crash.
_MAX_DEPTH = 100


@dataclass(frozen=True)
class _Operand:
    """A property (`field`) or a constant (`value`)."""

    field: str | None = None
    value: object = None


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text, _TOKEN, "Filter.expression:")
        self.pos = 0
        self.depth = 0

    def error(self, what: str) -> InvalidArgumentError:
        got = self.tokens[self.pos].text or "end of expression"
        return InvalidArgumentError(f"Filter.expression: {what}, got '{got}' in '{self.text}'.")

    def peek(self) -> Token:
        return self.tokens[self.pos]

    def take(self) -> Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def parse(self) -> Filter:
        if self.peek().kind == "end":
            raise InvalidArgumentError("Filter.expression: the expression is empty.")
        result = self.disjunction()
        if self.peek().kind != "end":
            raise self.error("expected '&&', '||' or the end")
        return result

    def disjunction(self) -> Filter:
        parts = [self.conjunction()]
        while self.peek().text == "||":
            self.take()
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else OrFilter(tuple(parts))

    def conjunction(self) -> Filter:
        parts = [self.negation()]
        while self.peek().text == "&&":
            self.take()
            parts.append(self.negation())
        return parts[0] if len(parts) == 1 else AndFilter(tuple(parts))

    def negation(self) -> Filter:
        token = self.peek()
        if token.text not in ("!", "("):
            return self.comparison()
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            raise InvalidArgumentError(
                f"Filter.expression: more than {_MAX_DEPTH} nested '(' or '!'."
            )
        self.take()
        inner: Filter
        if token.text == "!":
            inner = NotFilter(self.negation())
        else:
            inner = self.disjunction()
            if self.peek().text != ")":
                raise self.error("expected ')'")
            self.take()
        self.depth -= 1
        return inner

    def comparison(self) -> Filter:
        left = self.operand()
        op = self.peek().text
        if op not in _COMPARISONS:
            raise self.error("expected a comparison (==, !=, <, <=, >, >=)")
        self.take()
        right = self.operand()
        return _compare(left, op, right)

    def operand(self) -> _Operand:
        token = self.take()
        if token.kind == "number":
            return _Operand(value=_number(token.text))
        if token.text == "-" and self.peek().kind == "number":
            return _Operand(value=-_number(self.take().text))
        if token.kind == "string":
            return _Operand(value=re.sub(r"\\(.)", r"\1", token.text[1:-1]))
        if token.kind == "name":
            if token.text in _LITERALS:
                return _Operand(value=_LITERALS[token.text])
            return _Operand(field=token.text)
        self.pos -= 1
        raise self.error("expected a property name, a number or a string")


def _number(text: str) -> int | float:
    return float(text) if re.search(r"[.eE]", text) else int(text)


def _compare(left: _Operand, op: str, right: _Operand) -> Filter:
    name, mirrored = _COMPARISONS[op]
    if left.field is not None and right.field is None:
        return CompareFilter(left.field, name, right.value)
    if right.field is not None and left.field is None:
        return CompareFilter(right.field, mirrored, left.value)
    if left.field is not None and right.field is not None:
        return BinaryFilter(
            name,
            lambda a, b, _: CompareFilter("", name, b).test(a),
            left_field=left.field,
            right_field=right.field,
        )
    # Two constants: the comparison does not depend on the element.
    outcome = CompareFilter("", name, right.value).test(left.value)
    return ElementFilter("always" if outcome else "never", lambda e: outcome)


def parse_filter(text: str) -> Filter:
    """The filter tree of a filter expression such as 'a == "x" || b > 2'."""
    return _Parser(text).parse()


@algorithm("Filter.expression")
def expression(expression: str) -> Filter:
    """Constructs a filter tree from a string, e.g. 'WRS_PATH == 38 && (WRS_ROW == 28 ||
    WRS_ROW == 29)'.

    Args:
        expression: The text: comparisons (>, >=, <, <=, ==, !=) of property names with
            numbers, quoted strings or other properties, combined with (), !, && and ||.
    """
    return parse_filter(expression)
