"""Parsing dates given by users."""

from __future__ import annotations

from datetime import date as Date
from datetime import datetime

from routesim.errors import RoutesimError


def parse_date(value: Date | str) -> Date:
    """A ``date`` from ``YYYY-MM-DD`` text (or a date/datetime).

    Raises
    ------
    RoutesimError
        For text that is not an ISO date.
    """
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, Date):
        return value
    try:
        return Date.fromisoformat(str(value).strip())
    except ValueError:
        raise RoutesimError(f"invalid date {value!r}: expected YYYY-MM-DD") from None
