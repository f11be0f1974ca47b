"""Dates as Earth Engine has them: milliseconds since the Unix epoch, UTC."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from openee.errors import InvalidArgumentError


@dataclass(frozen=True, order=True)
class Date:
    """An instant, in milliseconds since 1970-01-01T00:00:00Z."""

    millis: int

    @classmethod
    def parse(cls, value: object) -> Date:
        """Accepts a Date, a number of milliseconds, or an ISO 8601 string ('2020-04-01')."""
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
                parsed = parsed.replace(tzinfo=UTC)
            return cls(round(parsed.timestamp() * 1000))
        raise InvalidArgumentError(f"Cannot interpret {value!r} as a date.")

    def to_datetime(self) -> datetime:
        return datetime.fromtimestamp(self.millis / 1000, tz=UTC)

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
