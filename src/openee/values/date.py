"""Dates as Earth Engine has them: milliseconds since the Unix epoch, UTC."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo

from openee.errors import InvalidArgumentError

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)


@dataclass(frozen=True, order=True)
class Date:
    """An instant, in milliseconds since 1970-01-01T00:00:00Z."""

    millis: int

    @classmethod
    def parse(cls, value: object, zone: tzinfo = UTC) -> Date:
        """Accepts a Date, a number of milliseconds, or an ISO 8601 string ('2020-04-01').

        A string without an offset is read in `zone` (UTC by default).
        """
        if isinstance(value, Date):
            return value
        if isinstance(value, bool):
            raise InvalidArgumentError(f"Cannot interpret {value!r} as a date.")
        if isinstance(value, int | float):
            return cls(int(value))
        if isinstance(value, str):
            parsed = _parse_iso(value)
            if parsed is None:
                raise InvalidArgumentError(f"Unable to parse date string '{value}'.")
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=zone)
            return cls((parsed - _EPOCH) // _MILLISECOND)
        raise InvalidArgumentError(f"Cannot interpret {value!r} as a date.")

    def to_datetime(self) -> datetime:
        """The instant as an aware UTC datetime (exact to the millisecond)."""
        return _EPOCH + self.millis * _MILLISECOND

    def iso(self) -> str:
        return self.to_datetime().isoformat().replace("+00:00", "Z")

    def info(self) -> dict[str, object]:
        return {"type": "Date", "value": self.millis}


# ISO 8601 as Earth Engine reads it: a year alone ('2020'), unpadded month, day and hour
# ('2017-6-24T0:14:46'), a fraction of a second of any length, an optional offset
# (ee_date.py, ee_date_get.py).
_ISO = re.compile(
    r"(?P<Y>[+-]?\d{4,})(?:-(?P<M>\d{1,2})(?:-(?P<D>\d{1,2}))?)?"
    r"(?:[T ](?P<h>\d{1,2})(?::(?P<m>\d{1,2})(?::(?P<s>\d{1,2})(?:[.,](?P<f>\d+))?)?)?)?"
    r"(?P<z>Z|[+-]\d{2}(?::?\d{2})?)?"
)


def _parse_iso(value: str) -> datetime | None:
    """The datetime an ISO 8601 string names (naive when it has no offset), or None."""
    match = _ISO.fullmatch(value.strip())
    if match is None:
        return None
    g = match.groupdict()
    zone: tzinfo | None = None
    if g["z"]:
        zone = UTC
        if g["z"] != "Z":
            sign = -1 if g["z"][0] == "-" else 1
            digits = g["z"][1:].replace(":", "")
            minutes = int(digits[:2]) * 60 + int(digits[2:] or 0)
            zone = timezone(sign * timedelta(minutes=minutes))
    micros = int((g["f"] or "")[:6].ljust(6, "0"))
    try:
        return datetime(
            int(g["Y"]),
            int(g["M"] or 1),
            int(g["D"] or 1),
            int(g["h"] or 0),
            int(g["m"] or 0),
            int(g["s"] or 0),
            micros,
            tzinfo=zone,
        )
    except ValueError:
        return None


@dataclass(frozen=True)
class DateRange:
    """A half-open interval [start, end): `end` is excluded, as in Earth Engine's filterDate."""

    start: Date
    end: Date

    def contains(self, date: Date) -> bool:
        return self.start <= date < self.end

    def info(self) -> dict[str, object]:
        return {"type": "DateRange", "dates": [self.start.millis, self.end.millis]}
