"""Dates as Earth Engine has them: milliseconds since the Unix epoch, UTC."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

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
            text = value.strip().replace("Z", "+00:00")
            try:
                parsed = datetime.fromisoformat(text)
            except ValueError:
                raise InvalidArgumentError(f"Unable to parse date string '{value}'.") from None
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


@dataclass(frozen=True)
class DateRange:
    """A half-open interval [start, end): `end` is excluded, as in Earth Engine's filterDate."""

    start: Date
    end: Date

    def contains(self, date: Date) -> bool:
        return self.start <= date < self.end

    def info(self) -> dict[str, object]:
        return {"type": "DateRange", "dates": [self.start.millis, self.end.millis]}
