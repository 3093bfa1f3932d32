"""Dated price and exchange-rate series (step functions)."""

from __future__ import annotations

import bisect
import csv
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date as Date
from pathlib import Path
from typing import Protocol

from routesim.errors import InputFileError, Problem
from routesim.io.scenario_file import LoadedScenario
from routesim.models.scenario import PriceSpec


@dataclass(frozen=True)
class Series:
    """A value that changes on given dates; before the first date the first value holds.

    Parameters
    ----------
    dates, values
        Sorted change dates and the value from each date on.
    """

    dates: tuple[Date, ...]
    values: tuple[float, ...]

    @classmethod
    def constant(cls, value: float) -> Series:
        return cls((Date.min,), (float(value),))

    @classmethod
    def from_points(cls, points: Sequence[tuple[Date, float]]) -> Series:
        pts = sorted(points)
        return cls(tuple(d for d, _ in pts), tuple(float(v) for _, v in pts))

    @classmethod
    def from_csv(cls, path: str | Path, *, column: str = "value") -> Series:
        """Read ``date,value`` rows (``YYYY-MM-DD`` or ``YYYY-MM``)."""
        path = Path(path)
        points, problems = [], []
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            for row in reader:
                try:
                    text = row["date"].strip()
                    day = Date.fromisoformat(text if len(text) > 7 else f"{text}-01")
                    points.append((day, float(row[column])))
                except (KeyError, ValueError, AttributeError) as exc:
                    problems.append(Problem(str(path), reader.line_num, column, f"bad row: {exc}"))
        if problems or not points:
            raise InputFileError(problems or [Problem(str(path), None, "", "no rows")])
        return cls.from_points(points)

    def at(self, day: Date) -> float:
        """Value in force on ``day``."""
        i = bisect.bisect_right(self.dates, day) - 1
        return self.values[max(i, 0)]


class PriceSource(Protocol):
    """Anything that gives the diesel price (SYP/L) and the exchange rate (SYP per USD) of a day."""

    def diesel_syp_per_l(self, day: Date) -> float: ...

    def syp_per_usd(self, day: Date) -> float: ...


@dataclass(frozen=True)
class Prices:
    """Diesel price (per litre, in ``diesel_currency``) and exchange rate (SYP per USD) by date."""

    diesel: Series
    exchange: Series
    diesel_currency: str = "SYP"

    def diesel_syp_per_l(self, day: Date) -> float:
        value = self.diesel.at(day)
        return value * self.exchange.at(day) if self.diesel_currency == "USD" else value

    def syp_per_usd(self, day: Date) -> float:
        return self.exchange.at(day)


def scenario_prices(loaded: LoadedScenario) -> Prices:
    """The scenario's diesel and exchange-rate series (CSV files relative to the scenario)."""
    def series(spec: PriceSpec) -> Series:
        if spec.value is not None:
            return Series.constant(spec.value)
        if spec.series is not None:
            return Series.from_points([(p.date, p.value) for p in spec.series])
        return Series.from_csv(loaded.resolve(spec.file or ""))

    c = loaded.scenario.costs
    return Prices(diesel=series(c.diesel), exchange=series(c.exchange_rate), diesel_currency=c.diesel.currency)
