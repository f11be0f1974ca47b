"""The `filter` of `operations.list`: a subset of Google's list filters (AIP-160), parsed into a
predicate on the REST `Operation`, or refused with a 400 naming what is not understood.

Earth Engine documents the parameter only as "the standard list filter"; the stock client
(`ee.data.listOperations`, `earthengine task list --status`) sends none and filters states
itself. What is understood (docs/decisions/0044):

    expression := sequence { "AND" sequence }
    sequence   := factor { factor }            (juxtaposition is AND, as AIP-160 says)
    factor     := term { "OR" term }           (OR binds tighter than AND, as AIP-160 says)
    term       := ["NOT" | "-"] simple
    simple     := "(" expression ")" | FIELD OP VALUE
    FIELD      := [metadata.]state | type | description | createTime | updateTime | startTime
                  | endTime, or done
    OP         := = | != | < | <= | > | >=      (< <= > >= on times only)
    VALUE      := a "quoted" or bare word; on description, `*` at either end of a `=` value
                  matches any text (AIP-160's wildcard); times are RFC 3339 (`2024-01-31T12:00:00Z`)

States and types must be ones Earth Engine names; anything else is refused, never ignored.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from openee.errors import InvalidArgumentError

Predicate = Callable[[dict[str, Any]], bool]

MAX_FILTER = 2000
MAX_DEPTH = 20  # nested parentheses
STATES = frozenset({"PENDING", "RUNNING", "CANCELLING", "SUCCEEDED", "FAILED", "CANCELLED"})
# OperationMetadata.type of Earth Engine's REST reference (google.earthengine.v1.Type).
TYPES = frozenset(
    {
        "EXPORT_IMAGE",
        "EXPORT_FEATURES",
        "EXPORT_VIDEO",
        "EXPORT_TILES",
        "EXPORT_CLASSIFIER",
        "INGEST_IMAGE",
        "INGEST_TABLE",
        "INGEST_IMAGE_FILE",
        "INGEST_TABLE_FILE",
        "UPDATE_IMAGE",
        "UPDATE_TABLE",
    }
)
TIMES = frozenset({"createTime", "updateTime", "startTime", "endTime"})
FIELDS = frozenset({"state", "type", "description", "done"}) | TIMES
_TOKEN = re.compile(
    r'\s*(?:(?P<string>"(?:[^"\\]|\\.)*")|(?P<op><=|>=|!=|[=<>()-])|(?P<word>[^\s"=<>!()]+))'
)


def _fail(text: str, why: str) -> InvalidArgumentError:
    return InvalidArgumentError(f"Invalid filter '{text[:200]}': {why}.")


def _tokens(text: str) -> list[tuple[str, str]]:
    out = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None:
            raise _fail(text, f"unexpected '{text[position:].strip()[:20]}'")
        kind = match.lastgroup
        assert kind is not None
        value = match.group(kind)
        if kind == "string":
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        out.append((kind, value))
        position = match.end()
    return out


def _time(text: str, value: str) -> datetime:
    try:
        stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _fail(text, f"'{value[:40]}' is not an RFC 3339 time") from None
    if stamp.tzinfo is None:
        raise _fail(text, f"'{value[:40]}' has no time zone (end it with Z)")
    return stamp


def _wildcard(pattern: str) -> Callable[[str], bool]:
    if "*" in pattern.strip("*"):
        return lambda value: value == pattern  # a '*' inside is a literal, as AIP-160 says
    regex = re.compile(
        ("" if pattern.startswith("*") else "^")
        + re.escape(pattern.strip("*"))
        + ("" if pattern.endswith("*") else "$")
    )
    return lambda value: regex.search(value) is not None


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.position = 0
        self.depth = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise _fail(self.text, "it ends too early")
        self.position += 1
        return token

    def keyword(self, word: str) -> bool:
        token = self.peek()
        if token is not None and token == ("word", word):
            self.position += 1
            return True
        return False

    def parse(self) -> Predicate:
        predicate = self.expression()
        if self.peek() is not None:
            raise _fail(self.text, f"unexpected '{self.peek()[1]}'")  # type: ignore[index]
        return predicate

    def expression(self) -> Predicate:
        parts = [self.sequence()]
        while self.keyword("AND"):
            parts.append(self.sequence())
        return parts[0] if len(parts) == 1 else (lambda op: all(p(op) for p in parts))

    def sequence(self) -> Predicate:
        parts = [self.factor()]
        while (token := self.peek()) is not None and token not in (
            ("op", ")"),
            ("word", "AND"),
        ):
            parts.append(self.factor())
        return parts[0] if len(parts) == 1 else (lambda op: all(p(op) for p in parts))

    def factor(self) -> Predicate:
        parts = [self.term()]
        while self.keyword("OR"):
            parts.append(self.term())
        return parts[0] if len(parts) == 1 else (lambda op: any(p(op) for p in parts))

    def term(self) -> Predicate:
        if self.keyword("NOT") or (self.peek() == ("op", "-") and self._take_minus()):
            inner = self.simple()
            return lambda op: not inner(op)
        return self.simple()

    def _take_minus(self) -> bool:
        self.position += 1
        return True

    def simple(self) -> Predicate:
        kind, value = self.take()
        if (kind, value) == ("op", "("):
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise _fail(self.text, f"more than {MAX_DEPTH} nested parentheses")
            inner = self.expression()
            self.depth -= 1
            if self.peek() != ("op", ")"):
                raise _fail(self.text, "a '(' is not closed")
            self.position += 1
            return inner
        if kind != "word" or value in ("AND", "OR", "NOT"):
            raise _fail(self.text, f"expected a field, got '{value}'")
        field = value.removeprefix("metadata.")
        if ":" in field:
            raise _fail(self.text, "the ':' (has) operator is not supported; use =")
        if field not in FIELDS:
            raise _fail(
                self.text,
                f"unknown field '{value[:40]}' (use state, type, description, createTime, "
                "updateTime, startTime, endTime or done)",
            )
        op_kind, op = self.take()
        if op_kind != "op" or op not in ("=", "!=", "<", "<=", ">", ">="):
            raise _fail(self.text, f"expected a comparison after '{value}', got '{op}'")
        value_kind, operand = self.take()
        if value_kind not in ("word", "string"):
            raise _fail(self.text, f"expected a value after '{value} {op}', got '{operand}'")
        return self.comparison(field, op, operand)

    def comparison(self, field: str, op: str, operand: str) -> Predicate:
        if field in TIMES:
            return self.time_comparison(field, op, _time(self.text, operand))
        if op not in ("=", "!="):
            raise _fail(self.text, f"'{field}' takes only = and !=")
        matches: Callable[[Any], bool]
        if field == "state":
            if operand not in STATES:
                raise _fail(self.text, f"unknown state '{operand[:40]}'")
            matches = operand.__eq__
        elif field == "type":
            if operand not in TYPES:
                raise _fail(self.text, f"unknown type '{operand[:40]}'")
            matches = operand.__eq__
        elif field == "done":
            if operand not in ("true", "false"):
                raise _fail(self.text, "done is true or false")
            wanted = operand == "true"
            matches = wanted.__eq__
        else:
            text_matches = _wildcard(operand)
            matches = lambda value: isinstance(value, str) and text_matches(value)  # noqa: E731
        positive = op == "="

        def predicate(resource: dict[str, Any]) -> bool:
            value = resource.get("done") if field == "done" else resource["metadata"].get(field)
            return bool(matches(value)) == positive

        return predicate

    def time_comparison(self, field: str, op: str, bound: datetime) -> Predicate:
        compare: Callable[[datetime], bool] = {
            "=": lambda t: t == bound,
            "!=": lambda t: t != bound,
            "<": lambda t: t < bound,
            "<=": lambda t: t <= bound,
            ">": lambda t: t > bound,
            ">=": lambda t: t >= bound,
        }[op]

        def predicate(resource: dict[str, Any]) -> bool:
            value = resource["metadata"].get(field)
            if not isinstance(value, str):
                return False  # not started / not ended: no time to compare
            return compare(datetime.fromisoformat(value.replace("Z", "+00:00")))

        return predicate


def parse_filter(text: str | None) -> Predicate | None:
    """The predicate of an `operations.list` filter; None when there is no filter."""
    if text is None or not text.strip():
        return None
    if len(text) > MAX_FILTER:
        raise InvalidArgumentError(f"The filter is longer than {MAX_FILTER} characters.")
    return _Parser(text).parse()
