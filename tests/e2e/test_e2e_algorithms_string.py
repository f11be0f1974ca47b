"""String algorithms through the stock client, checked against Python's str, re and json."""

from __future__ import annotations

import json
import re

import pytest

pytestmark = pytest.mark.e2e


def _java_split(text: str, regex: str, flags: int = 0) -> list[str]:
    """Java's String.split: no captured groups, trailing empty strings removed."""
    if regex == "":
        return list(text)
    parts, last = [], 0
    for m in re.finditer(regex, text, flags):
        if m.end() == 0:
            continue
        parts.append(text[last : m.start()])
        last = m.end()
    if not parts:
        return [text]
    parts.append(text[last:])
    while parts and parts[-1] == "":
        parts.pop()
    return parts


def test_basic_string_operations(ee_api) -> None:
    ee = ee_api
    s = "  Hello, Earth Engine!  "
    t = s.strip()
    got = ee.List(
        [
            ee.String(t).length(),
            ee.String(t).cat(" ok"),
            ee.String(t).toUpperCase(),
            ee.String(t).toLowerCase(),
            ee.String(s).trim(),
            ee.String(t).slice(7),
            ee.String(t).slice(-7, -1),
            ee.String(t).slice(0, 5),
            ee.String(t).index("Earth"),
            ee.String(t).index("Mars"),
            ee.String(t).rindex("E"),
            ee.String("a").compareTo("b"),
            ee.String("b").compareTo("a"),
            ee.String("abc").compareTo("abc"),
            ee.String("abc").equals("abc"),
            ee.String("abc").equals("abd"),
            ee.String("12").equals(12),
        ]
    ).getInfo()
    assert got == [
        len(t),
        t + " ok",
        t.upper(),
        t.lower(),
        s.strip(),
        t[7:],
        t[-7:-1],
        t[:5],
        t.find("Earth"),
        t.find("Mars"),
        t.rfind("E"),
        -1,
        1,
        0,
        True,
        False,
        False,
    ]


SPLITS = [
    ("aBAbcD", "Ab", ""),
    ("aBAbcD", "ab", "i"),
    ("aBAbcD", "[bc]", "i"),
    ("aBAbcD", "(BA|c)", ""),
    ("a,b,cdee f,g", "", ""),
    ("a,b,cdee f,g", ",", ""),
    ("a,b,cdee f,g", "[a-z]", ""),
    ("a,b,cdee f,g", "[^a-z]", ""),
    ("a.b*c?d", "\\.", ""),
    ("x1y22z333", "\\d+", ""),
]


def test_split_follows_java(ee_api) -> None:
    ee = ee_api
    got = ee.List([ee.String(s).split(r, f) for s, r, f in SPLITS]).getInfo()
    for (s, r, f), value in zip(SPLITS, got, strict=True):
        assert value == _java_split(s, r, re.IGNORECASE if "i" in f else 0), (s, r, f)
    # A POSIX class, which Python's re does not read: [[:space:]] is whitespace.
    assert ee.String("a,b cdee\tf").split("[[:space:]]").getInfo() == ["a,b", "cdee", "f"]


def test_match_and_replace(ee_api) -> None:
    ee = ee_api
    s = "ABCabc123 abc456"
    got = ee.List(
        [
            ee.String(s).match("ab", "g"),
            ee.String(s).match("ab", "i"),
            ee.String(s).match("AB", "ig"),
            ee.String(s).match("([a-z]+)([0-9]+)"),
            ee.String(s).match("xyz"),
            ee.String(s).replace("abc", "X"),
            ee.String(s).replace("abc", "X", "g"),
            ee.String(s).replace("abc", "X", "gi"),
            ee.String(s).replace("([a-z]+)(\\d+)", "$2-$1", "g"),
        ]
    ).getInfo()
    first = re.search("([a-z]+)([0-9]+)", s)
    assert first is not None
    assert got == [
        re.findall("ab", s),
        [re.search("ab", s, re.I).group(0)],  # type: ignore[union-attr]
        re.findall("AB", s, re.I),
        [first.group(0), *first.groups()],
        [],
        s.replace("abc", "X", 1),
        s.replace("abc", "X"),
        re.sub("abc", "X", s, flags=re.I),
        re.sub(r"([a-z]+)(\d+)", r"\2-\1", s),
    ]


def test_json_round_trip_and_string_constructor(ee_api) -> None:
    ee = ee_api
    value = {"a": [1, 2.5, "x"], "b": {"c": None, "d": True}}
    text = json.dumps(value)
    got = ee.List(
        [
            ee.String(text).decodeJSON(),
            ee.String.encodeJSON(value),
            ee.String(ee.Number(42)),
        ]
    ).getInfo()
    assert got[0] == value
    assert json.loads(got[1]) == value
    assert got[2] == "42"


@pytest.mark.parametrize(
    "call",
    [
        lambda ee, s: ee.String(s).match("^(a|aa)+$"),
        lambda ee, s: ee.String(s).replace("^(a|aa)+$", "x"),
        lambda ee, s: ee.String(s).split("(a|aa)+$"),
    ],
    ids=["match", "replace", "split"],
)
def test_a_backtracking_pattern_is_a_clear_error_not_a_stuck_thread(ee_api, call) -> None:
    ee = ee_api
    text = "a" * 40 + "!"  # a backtracking engine needs ~2^40 steps for (a|aa)+$ here: hours
    with pytest.raises(ee.EEException, match="took longer than 1 s on its input"):
        call(ee, text).getInfo()
    assert ee.String("aaa").match("^(a|aa)+$").getInfo() == ["aaa", "a"]  # and still serves


def test_nested_repetition_that_used_to_backtrack_answers_at_once(ee_api) -> None:
    ee = ee_api
    # (a+)+$ took 1.6 s on 26 a's with Python's re, doubling per character.
    assert ee.String("a" * 60 + "b").match("^(a+)+$").getInfo() == []
    assert ee.String("a" * 60).match("^(a+)+$").getInfo() == ["a" * 60, "a" * 60]
