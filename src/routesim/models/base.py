"""The base of every file model."""

from __future__ import annotations

from datetime import date as Date
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

#: First and last day a file may name. The network's history is 2011-2026; the
#: bounds leave room for baselines and projections while refusing typos such as
#: ``9999-12-31`` or ``0216-01-01`` that would make a run span millennia.
DATE_MIN = Date(1900, 1, 1)
DATE_MAX = Date(2100, 12, 31)


class StrictModel(BaseModel):
    """Base of every file model: unknown keys are errors, numbers are finite, dates lie in
    :data:`DATE_MIN` – :data:`DATE_MAX`.

    Example (any subclass)::

        date: 2016-06-01      # 1900-01-01 .. 2100-12-31
        value: 180            # .inf and .nan are refused
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    @field_validator("*", mode="after")
    @classmethod
    def _date_in_range(cls, value: Any) -> Any:
        if isinstance(value, Date) and not DATE_MIN <= value <= DATE_MAX:
            raise ValueError(f"{value} is outside the supported dates {DATE_MIN} – {DATE_MAX}")
        return value
