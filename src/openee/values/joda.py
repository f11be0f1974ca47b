"""Joda-Time date patterns, as Earth Engine's Date.format and Date.parse take them.

Supported letters: G era, C century, Y year of era, x week year, w week of week year, e day of
week (1 = Monday), E day name, y year, D day of year, M month, d day of month, a AM/PM,
K hour 0-11, h hour 1-12, H hour 0-23, k hour 1-24, m minute, s second, S fraction of second,
z zone name, Z offset ('Z' -0800, 'ZZ' -08:00, 'ZZZ' the zone id); text in single quotes.
Text is English. As in Joda, the number of letters is the minimum number of digits, except
'yy'/'xx' (two-digit year) and 3+ letters of M or E (names).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo

from openee.errors import InvalidArgumentError

MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_LETTERS = set("GCYxwEeyDMdaKhHkmsSzZ")
_NUMERIC = set("CYxwyDdKhHkmse")


@dataclass(frozen=True)
class Token:
    """A run of one pattern letter (`letter` set, `count` repeats) or literal text."""

    letter: str
    count: int
    text: str = ""


def tokenize(pattern: str) -> list[Token]:
    tokens: list[Token] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "'":
            end = i + 1
            text = ""
            while end < len(pattern):
                if pattern[end] == "'":
                    if end + 1 < len(pattern) and pattern[end + 1] == "'":
                        text += "'"
                        end += 2
                        continue
                    break
                text += pattern[end]
                end += 1
            tokens.append(Token("", 0, text if end > i + 1 else "'"))
            i = end + 1
        elif c in _LETTERS:
            j = i
            while j < len(pattern) and pattern[j] == c:
                j += 1
            tokens.append(Token(c, j - i))
            i = j
        elif c.isalpha():
            raise InvalidArgumentError(f"Illegal pattern component: {c}")
        else:
            tokens.append(Token("", 0, c))
            i += 1
    return tokens


def _pad(value: int, count: int) -> str:
    sign = "-" if value < 0 else ""
    return sign + str(abs(value)).zfill(count)


def _offset(dt: datetime, colon: bool) -> str:
    offset = dt.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    h, m = divmod(abs(minutes), 60)
    return f"{sign}{h:02d}:{m:02d}" if colon else f"{sign}{h:02d}{m:02d}"


def format_datetime(dt: datetime, pattern: str, zone_id: str) -> str:
    """`dt` (aware, in its display zone) formatted with a Joda pattern."""
    out: list[str] = []
    iso_year, iso_week, iso_day = dt.isocalendar()
    for t in tokenize(pattern):
        c, n = t.letter, t.count
        if not c:
            out.append(t.text)
        elif c == "G":
            out.append("AD" if dt.year > 0 else "BC")
        elif c == "C":
            out.append(_pad(dt.year // 100, n))
        elif c in "yY":
            out.append(_pad(dt.year % 100, 2) if n == 2 else _pad(dt.year, n))
        elif c == "x":
            out.append(_pad(iso_year % 100, 2) if n == 2 else _pad(iso_year, n))
        elif c == "w":
            out.append(_pad(iso_week, n))
        elif c == "e":
            out.append(_pad(iso_day, n))
        elif c == "E":
            out.append(DAYS[dt.weekday()] if n >= 4 else DAYS[dt.weekday()][:3])
        elif c == "D":
            out.append(_pad(dt.timetuple().tm_yday, n))
        elif c == "M":
            month = MONTHS[dt.month - 1]
            out.append(month if n >= 4 else month[:3] if n == 3 else _pad(dt.month, n))
        elif c == "d":
            out.append(_pad(dt.day, n))
        elif c == "a":
            out.append("AM" if dt.hour < 12 else "PM")
        elif c == "K":
            out.append(_pad(dt.hour % 12, n))
        elif c == "h":
            out.append(_pad(dt.hour % 12 or 12, n))
        elif c == "H":
            out.append(_pad(dt.hour, n))
        elif c == "k":
            out.append(_pad(dt.hour or 24, n))
        elif c == "m":
            out.append(_pad(dt.minute, n))
        elif c == "s":
            out.append(_pad(dt.second, n))
        elif c == "S":
            millis = f"{dt.microsecond // 1000:03d}"
            out.append((millis + "0" * n)[:n])
        elif c == "z":
            out.append(dt.tzname() or zone_id if n < 4 else zone_id)
        elif c == "Z":
            out.append(zone_id if n >= 3 else _offset(dt, colon=n == 2))
    return "".join(out)


def _field_regex(t: Token, fixed: bool) -> str:
    c, n = t.letter, t.count
    if not c:
        return re.escape(t.text)
    if c == "M" and n >= 3:
        return "(?P<M>[A-Za-z]+)"
    if c == "E":
        return "(?P<E>[A-Za-z]+)"
    if c == "a":
        return "(?P<a>[AaPp][Mm])"
    if c == "G":
        return "(?P<G>AD|BC|ad|bc)"
    if c in "zZ":
        return f"(?P<{c}>Z|[+-]\\d{{2}}:?\\d{{2}}|[A-Za-z_/+-]+)"
    if c in "yYx" and n == 2:
        return f"(?P<{c}>\\d{{2}})"
    if fixed:
        return f"(?P<{c}>\\d{{{n}}})"
    return f"(?P<{c}>[+-]?\\d+)" if c in "yYx" else f"(?P<{c}>\\d+)"


def parse_datetime(pattern: str, text: str, zone: tzinfo) -> datetime:
    """Parse `text` with a Joda pattern; a parsed offset or zone wins over `zone`."""
    tokens = tokenize(pattern)
    parts: list[str] = []
    seen: set[str] = set()
    for i, t in enumerate(tokens):
        if t.letter in seen:
            raise InvalidArgumentError(f"Date.parse: the pattern repeats the field '{t.letter}'.")
        if t.letter:
            seen.add(t.letter)
        following = tokens[i + 1] if i + 1 < len(tokens) else None
        fixed = _numeric(t) and following is not None and _numeric(following)
        parts.append(_field_regex(t, fixed))
    found = re.fullmatch("".join(parts), text.strip())
    if found is None:
        raise InvalidArgumentError(f"Invalid format: \"{text[:100]}\" does not match '{pattern}'.")
    f = {k: v for k, v in found.groupdict().items() if v is not None}
    try:
        return _build(f, zone)
    except (ValueError, OverflowError, KeyError) as exc:
        raise InvalidArgumentError(f'Cannot parse date "{text[:100]}": {exc}.') from None


def _numeric(t: Token) -> bool:
    return t.letter in _NUMERIC or t.letter == "S" or (t.letter == "M" and t.count < 3)


def _year(text: str, two_digit: bool) -> int:
    value = int(text)
    if two_digit:
        # Joda's default pivot: the 100 years around 2000.
        return 2000 + value if value < 50 else 1900 + value
    return value


def _build(f: dict[str, str], zone: tzinfo) -> datetime:
    if "y" in f:
        year = _year(f["y"], len(f["y"]) == 2 and not f["y"].startswith(("+", "-")))
    elif "Y" in f:
        year = _year(f["Y"], len(f["Y"]) == 2)
    else:
        year = 1970
    if f.get("G", "AD").upper() == "BC":
        year = 1 - year
    if "M" in f:
        text = f["M"]
        month = (
            int(text)
            if text.isdigit()
            else 1 + [m[: len(text)].lower() for m in MONTHS].index(text.lower())
        )
    else:
        month = 1
    hour = int(f.get("H", f.get("k", "0"))) % 24
    if "h" in f or "K" in f:
        hour = int(f.get("h", f.get("K", "0"))) % 12
        if f.get("a", "AM").upper() == "PM":
            hour += 12
    fraction = f.get("S", "0")
    micros = int((fraction + "000000")[:6]) if fraction else 0
    base = datetime(year, month, int(f.get("d", "1")), hour, int(f.get("m", "0")), 0, micros)
    if "D" in f:
        base = base.replace(month=1, day=1) + timedelta(days=int(f["D"]) - 1)
    if "x" in f and "w" in f:
        week_year = _year(f["x"], len(f["x"]) == 2)
        iso = datetime.fromisocalendar(week_year, int(f["w"]), int(f.get("e", "1")))
        base = base.replace(year=iso.year, month=iso.month, day=iso.day)
    base = base + timedelta(seconds=int(f.get("s", "0")))
    tz = zone
    for key in ("Z", "z"):
        if key in f:
            tz = zone_of(f[key])
    return base.replace(tzinfo=tz)


def zone_of(name: str | None) -> tzinfo:
    """A time zone from an IANA id ('America/Los_Angeles'), 'UTC', or an offset ('-08:00')."""
    if name is None or name in ("UTC", "Z", "GMT", "Zulu", "Etc/UTC", "Etc/GMT"):
        return UTC
    offset = re.fullmatch(r"(?:UTC|GMT)?([+-])(\d{1,2}):?(\d{2})?", name)
    if offset:
        sign = -1 if offset.group(1) == "-" else 1
        delta = timedelta(hours=int(offset.group(2)), minutes=int(offset.group(3) or 0))
        return timezone(sign * delta)
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidArgumentError(f"Unknown time zone: '{name[:100]}'.") from None
