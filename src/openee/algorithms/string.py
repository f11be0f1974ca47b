"""String: Earth Engine's string algorithms, with its (Java) regular expressions and JSON.

Regular expressions are Java's; the `regex` package reads most of them the same way. The
differences that matter in practice are translated: POSIX classes (`[[:space:]]`),
`\\p{Alpha}`-style classes, and `$1` group references in replacements. `split` drops trailing
empty strings, as Java does. Every use of a pattern is bounded in time (`REGEX_TIME_LIMIT_S`):
a backtracking pattern such as `^(a+)+$` is a clear 400, not a thread stuck for minutes.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import regex as regexlib  # `regex` is the name of the algorithms' argument

from openee.algorithms.registry import algorithm
from openee.errors import InvalidArgumentError
from openee.values.info import to_info
from openee.values.size import check_count

_POSIX = {
    "alpha": "a-zA-Z",
    "digit": "0-9",
    "alnum": "a-zA-Z0-9",
    "upper": "A-Z",
    "lower": "a-z",
    "space": r" \t\n\r\f\v",
    "punct": r"!-/:-@\[-`{-~",
    "xdigit": "0-9a-fA-F",
    "word": r"\w",
    "blank": r" \t",
    "cntrl": r"\x00-\x1f\x7f",
    "print": r"\x20-\x7e",
    "graph": r"\x21-\x7e",
}
_JAVA_CLASSES = {
    "Lower": "[a-z]",
    "Upper": "[A-Z]",
    "Alpha": "[a-zA-Z]",
    "Digit": "[0-9]",
    "Alnum": "[a-zA-Z0-9]",
    "Punct": r"[!-/:-@\[-`{-~]",
    "Space": r"[ \t\n\r\f\v]",
    "XDigit": "[0-9a-fA-F]",
    "Blank": r"[ \t]",
    "L": r"[^\W\d_]",
    "N": r"\d",
}


# How long one use of a user's pattern may take (a search, a replace, a split).
REGEX_TIME_LIMIT_S = 1.0


def compile_regex(source: str, flags: str = "") -> regexlib.Pattern[str]:
    """A Java/RE2 regular expression as a Python pattern; 'i' in flags ignores case. Use it
    inside `time_limited`, passing `timeout=REGEX_TIME_LIMIT_S`."""
    unknown = set(flags) - {"i", "g"}
    if unknown:
        raise InvalidArgumentError(
            f"Unknown regular expression flags: '{''.join(sorted(unknown))}'."
        )
    text = re.sub(r"\[:(\w+):\]", lambda m: _POSIX.get(m.group(1), m.group(0)), source)
    text = re.sub(r"\\([pP])\{(\w+)\}", _java_class, text)
    try:
        return regexlib.compile(text, regexlib.IGNORECASE if "i" in flags else 0)
    except regexlib.error as exc:
        raise InvalidArgumentError(f"Invalid regular expression '{source[:100]}': {exc}.") from None


@contextmanager
def time_limited(source: str) -> Iterator[None]:
    """Turns a pattern use that ran past `REGEX_TIME_LIMIT_S` into a clear error."""
    try:
        yield
    except TimeoutError:
        raise InvalidArgumentError(
            f"The regular expression '{source[:100]}' took longer than {REGEX_TIME_LIMIT_S:g} s "
            "on its input; simplify it (nested repetition such as (a+)+ backtracks "
            "exponentially)."
        ) from None


def _java_class(found: re.Match[str]) -> str:
    char_class = _JAVA_CLASSES.get(found.group(2))
    if char_class is None:
        return found.group(0)
    return _negate(char_class) if found.group(1) == "P" else char_class


def _negate(char_class: str) -> str:
    if char_class.startswith("[^"):
        return "[" + char_class[2:]
    if char_class.startswith("["):
        return "[^" + char_class[1:]
    return {r"\d": r"\D", r"\w": r"\W"}.get(char_class, char_class)


def _java_replacement(replacement: str) -> str:
    """A Java replacement string ($1, ${name}, backslash escapes) in Python's syntax."""
    out: list[str] = []
    i = 0
    while i < len(replacement):
        c = replacement[i]
        if c == "\\" and i + 1 < len(replacement):
            out.append(replacement[i + 1].replace("\\", "\\\\"))
            i += 2
            continue
        if c == "$":
            named = re.match(r"\$\{(\w+)\}", replacement[i:])
            number = re.match(r"\$(\d+)", replacement[i:])
            if named:
                out.append(f"\\g<{named.group(1)}>")
                i += named.end()
                continue
            if number:
                out.append(f"\\g<{number.group(1)}>")
                i += number.end()
                continue
            raise InvalidArgumentError("Illegal group reference in the replacement string.")
        out.append("\\\\" if c == "\\" else c)
        i += 1
    return "".join(out)


def display(value: object) -> str:
    """A value as Earth Engine shows it in a string: numbers plainly, the rest as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isfinite(value):
            return repr(value)
        return "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")
    return encode_json(value)


def encode_json(value: object) -> str:
    return json.dumps(to_info(value), separators=(",", ":"), ensure_ascii=False, allow_nan=False)


@algorithm("String")
def string(input: Any) -> str:
    """Converts a value to a string; numbers are written plainly and other values as JSON.

    Args:
        input: The value to convert.
    """
    return display(input)


@algorithm("String.cat")
def cat(string1: str, string2: str) -> str:
    """Concatenates two strings.

    Args:
        string1: The first string.
        string2: The string appended to it.
    """
    check_count(len(string1) + len(string2))  # before building: doubling is the usual bomb
    return string1 + string2


@algorithm("String.compareTo")
def compare_to(string1: str, string2: str) -> int:
    """Compares two strings lexicographically: 0 if equal, -1 if string1 is less, else 1.

    Args:
        string1: The string to compare.
        string2: The string to compare it with.
    """
    return (string1 > string2) - (string1 < string2)


@algorithm("String.equals")
def equals(reference: str, target: Any) -> bool:
    """Returns true if the target is a string equal to the reference.

    Args:
        reference: The string.
        target: The value to compare it with.
    """
    return isinstance(target, str) and reference == target


@algorithm("String.length")
def length(string: str) -> int:
    """Returns the length of a string.

    Args:
        string: The string.
    """
    return len(string)


@algorithm("String.index")
def index(target: str, pattern: str) -> int:
    """Returns the position of the first occurrence of a substring, or -1.

    Args:
        target: The string to search in.
        pattern: The substring to look for.
    """
    return target.find(pattern)


@algorithm("String.rindex")
def rindex(target: str, pattern: str) -> int:
    """Returns the position of the last occurrence of a substring, or -1.

    Args:
        target: The string to search in.
        pattern: The substring to look for.
    """
    return target.rfind(pattern)


@algorithm("String.slice")
def slice_(string: str, start: int, end: int | None = None) -> str:
    """Returns a substring from start (inclusive) to end (exclusive); negatives count from the end.

    Args:
        string: The string.
        start: The first position.
        end: The position after the last. Default: the end of the string.
    """
    return string[start:end]


@algorithm("String.toUpperCase")
def to_upper_case(string: str) -> str:
    """Converts all the characters of a string to upper case.

    Args:
        string: The string.
    """
    return string.upper()


@algorithm("String.toLowerCase")
def to_lower_case(string: str) -> str:
    """Converts all the characters of a string to lower case.

    Args:
        string: The string.
    """
    return string.lower()


@algorithm("String.trim")
def trim(string: str) -> str:
    """Removes leading and trailing whitespace (characters up to U+0020, as Java does).

    Args:
        string: The string.
    """
    return string.strip("".join(chr(c) for c in range(33)))


@algorithm("String.match")
def match(input: str, regex: str, flags: str = "") -> list[str]:
    """Matches a string against a regular expression and returns the matching strings.

    Without the 'g' flag, the first match followed by its groups; with 'g', every match.

    Args:
        input: The string to search.
        regex: The regular expression.
        flags: Any of 'g' (all matches) and 'i' (ignore case).
    """
    pattern = compile_regex(regex, flags)
    with time_limited(regex):
        if "g" in flags:
            return [m.group(0) for m in pattern.finditer(input, timeout=REGEX_TIME_LIMIT_S)]
        found = pattern.search(input, timeout=REGEX_TIME_LIMIT_S)
    if found is None:
        return []
    return [found.group(0), *[g if g is not None else "" for g in found.groups()]]


@algorithm("String.replace")
def replace(input: str, regex: str, replacement: str, flags: str = "") -> str:
    """Replaces the first match of a regular expression (every match with 'g').

    Args:
        input: The string.
        regex: The regular expression.
        replacement: The replacement; $1, $2, ... refer to the groups of the match.
        flags: Any of 'g' (replace all matches) and 'i' (ignore case).
    """
    pattern = compile_regex(regex, flags)
    count = 0 if "g" in flags else 1
    try:
        with time_limited(regex):
            return pattern.sub(
                _java_replacement(replacement), input, count=count, timeout=REGEX_TIME_LIMIT_S
            )
    except (regexlib.error, IndexError) as exc:
        raise InvalidArgumentError(f"Invalid replacement '{replacement[:100]}': {exc}.") from None


@algorithm("String.split")
def split(string: str, regex: str, flags: str = "") -> list[str]:
    """Splits a string on a regular expression; an empty expression splits into characters.

    Trailing empty strings are dropped, as Java's String.split does.

    Args:
        string: The string to split.
        regex: The regular expression to split on.
        flags: 'i' to ignore case.
    """
    if regex == "":
        return list(string)
    pattern = compile_regex(regex, flags)
    parts: list[str] = []
    last = 0
    with time_limited(regex):
        for found in pattern.finditer(string, timeout=REGEX_TIME_LIMIT_S):
            if found.end() == 0:
                continue  # a zero-width match at the start never yields a leading empty string
            parts.append(string[last : found.start()])
            last = found.end()
    if not parts:
        return [string]
    parts.append(string[last:])
    while parts and parts[-1] == "":
        parts.pop()
    return parts


@algorithm("String.decodeJSON")
def decode_json(string: str) -> Any:
    """Decodes a JSON string.

    Args:
        string: The JSON text.
    """
    try:
        return json.loads(string)
    except (ValueError, RecursionError) as exc:
        raise InvalidArgumentError(f"Invalid JSON: {exc}.") from None


@algorithm("String.encodeJSON")
def encode_json_(object: Any) -> str:
    """Encodes a value as JSON text.

    Args:
        object: The value.
    """
    try:
        return encode_json(object)
    except ValueError:
        raise InvalidArgumentError("Cannot encode NaN or infinity as JSON.") from None
