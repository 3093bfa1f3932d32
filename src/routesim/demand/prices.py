"""Dated price and exchange-rate series (step functions), the sourced series shipped in
``data/prices/``, and warnings for prices far from them."""

from __future__ import annotations

import bisect
import csv
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date as Date
from pathlib import Path
from typing import Protocol

from routesim._util.datafiles import prices_dir
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
        """Read ``date,value`` rows (``YYYY-MM-DD`` or ``YYYY-MM``) of a UTF-8 CSV (a byte-order mark is allowed).

        Values must be positive and finite, dates within the supported range
        (:data:`routesim.models.base.DATE_MIN` – ``DATE_MAX``) and each given once.

        Raises
        ------
        InputFileError
            One located problem per bad row (the first 20), or for an unreadable
            file, text that is not UTF-8, missing columns or no rows.
        """
        # Imported here to keep this method self-contained within the module.
        from routesim._util.yamlio import decode_utf8
        from routesim.models.base import DATE_MAX, DATE_MIN

        path = Path(path)
        try:
            text = decode_utf8(path.read_bytes(), path)
        except OSError as exc:
            raise InputFileError([Problem(str(path), None, "", f"cannot read: {exc.strerror or exc}")]) from None
        reader = csv.DictReader(text.splitlines(keepends=True))
        missing = [c for c in ("date", column) if c not in (reader.fieldnames or [])]
        if missing:
            message = f"expected columns date,{column}; missing {', '.join(missing)}"
            raise InputFileError([Problem(str(path), 1, "", message)])
        points: list[tuple[Date, float]] = []
        problems: list[Problem] = []

        def bad(line: int, name: str, message: str) -> None:
            problems.append(Problem(str(path), line, name, message))

        first_line: dict[Date, int] = {}
        for row in reader:
            line = reader.line_num
            try:
                raw = (row["date"] or "").strip()
                day = Date.fromisoformat(raw if len(raw) > 7 else f"{raw}-01")
            except (ValueError, AttributeError):
                bad(line, "date", f"not a date (YYYY-MM-DD or YYYY-MM): {row['date']!r}")
                continue
            try:
                value = float(row[column] or "")
            except (ValueError, TypeError):
                bad(line, column, f"not a number: {row[column]!r}")
                continue
            if not DATE_MIN <= day <= DATE_MAX:
                bad(line, "date", f"{day} is outside the supported dates {DATE_MIN} – {DATE_MAX}")
            elif not 0 < value < float("inf"):  # NaN fails both comparisons
                bad(line, column, f"must be a positive finite number, not {value}")
            elif day in first_line:
                bad(line, "date", f"{day} is given twice (first at line {first_line[day]})")
            else:
                first_line[day] = line
                points.append((day, value))
        if problems or not points:
            more = len(problems) - 20
            tail = [Problem(str(path), None, "", f"... and {more} more bad rows")] if more > 0 else []
            shown = problems[:20] + tail
            raise InputFileError(shown or [Problem(str(path), None, "", "no rows")])
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


#: A scenario's price more than this many times above, or below one this-th of, the
#: sourced value of its day is warned about (:func:`price_warnings`).
PLAUSIBLE_FACTOR = 3.0

#: The kinds of diesel price a series file may label its rows with, and for each the kinds it falls
#: back to before its first row: the subsidised allocation price starts in 2016 (before, the official
#: price was the subsidised one), and no market price is sourced before 2021.
KIND_FALLBACK: dict[str, tuple[str, ...]] = {
    "official": ("official",),
    "subsidised": ("subsidised", "official"),
    "market": ("market", "subsidised", "official"),
}


@dataclass(frozen=True)
class PriceRow:
    """A row of a labelled price file: the value from ``day`` on, which price it is, and its source."""

    day: Date
    value: float
    kind: str
    source: str


def has_kind_column(path: str | Path) -> bool:
    """Whether a price CSV labels its rows with a ``kind`` column."""
    with Path(path).open(newline="", encoding="utf-8") as fh:
        header = next(csv.reader(fh), [])
    return "kind" in [h.strip() for h in header]


def read_price_rows(path: str | Path) -> list[PriceRow]:
    """The rows of a price CSV with columns ``date,value,kind`` (and optionally ``source``).

    Dates are ``YYYY-MM-DD`` or ``YYYY-MM`` (the first of the month); kinds are
    those of :data:`KIND_FALLBACK`.

    Raises
    ------
    InputFileError
        Every bad row, as ``file:line: column: problem``.
    """
    path = Path(path)
    rows: list[PriceRow] = []
    problems: list[Problem] = []
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        for row in reader:
            line = reader.line_num
            try:
                text = (row.get("date") or "").strip()
                day = Date.fromisoformat(text if len(text) > 7 else f"{text}-01")
            except ValueError:
                bad = f"bad date {row.get('date')!r} (YYYY-MM-DD or YYYY-MM)"
                problems.append(Problem(str(path), line, "date", bad))
                continue
            try:
                value = float(row.get("value") or "")
            except ValueError:
                problems.append(Problem(str(path), line, "value", f"not a number: {row.get('value')!r}"))
                continue
            if not value > 0 or value == float("inf"):
                problems.append(Problem(str(path), line, "value", f"must be a positive number, not {value}"))
                continue
            kind = (row.get("kind") or "").strip()
            if kind not in KIND_FALLBACK:
                bad = f"{kind!r}: expected one of {', '.join(KIND_FALLBACK)}"
                problems.append(Problem(str(path), line, "kind", bad))
                continue
            rows.append(PriceRow(day, value, kind, (row.get("source") or "").strip()))
    if problems or not rows:
        raise InputFileError(problems or [Problem(str(path), None, "", "no rows")])
    return sorted(rows, key=lambda r: r.day)


def kind_series(rows: Sequence[PriceRow], kind: str) -> Series:
    """The series of one kind of price: its own rows, and before the first of them its fallback's
    (:data:`KIND_FALLBACK`).

    Raises
    ------
    ValueError
        When no row is of ``kind`` or of a kind it falls back to.
    """
    points: list[tuple[Date, float]] = []
    for k in KIND_FALLBACK[kind]:
        first = points[0][0] if points else None
        points = [(r.day, r.value) for r in rows if r.kind == k and (first is None or r.day < first)] + points
    if not points:
        raise ValueError(f"no row of kind {kind!r}")
    return Series.from_points(points)


def sourced_diesel(kind: str = "market") -> Series:
    """The shipped diesel series of ``kind`` (SYP per litre, ``data/prices/diesel_syp.csv``)."""
    return kind_series(read_price_rows(prices_dir() / "diesel_syp.csv"), kind)


def sourced_exchange_rate() -> Series:
    """The shipped series of SYP per USD (``data/prices/syp_per_usd.csv``)."""
    return Series.from_csv(prices_dir() / "syp_per_usd.csv")


def scenario_prices(loaded: LoadedScenario) -> Prices:
    """The scenario's diesel and exchange-rate series.

    A price not given is the sourced series (diesel: the ``market`` kind
    unless ``kind`` says otherwise); files are those the scenario names
    (paths resolved against the file they are written in, ``builtin:`` for
    shipped data). A diesel file with a ``kind`` column gives the rows of the
    chosen kind (:func:`kind_series`).

    Raises
    ------
    InputFileError
        A bad file, or a ``kind`` asked of a file without a ``kind`` column.
    """
    c = loaded.scenario.costs

    def given(spec: PriceSpec) -> Series | None:
        if spec.value is not None:
            return Series.constant(spec.value)
        if spec.series is not None:
            return Series.from_points([(p.date, p.value) for p in spec.series])
        return None

    diesel = given(c.diesel)
    if diesel is None:
        path = loaded.resolve(c.diesel.file) if c.diesel.file else prices_dir() / "diesel_syp.csv"
        if has_kind_column(path):
            try:
                diesel = kind_series(read_price_rows(path), c.diesel.series_kind)
            except ValueError as exc:
                raise InputFileError([loaded.doc.problem(("costs", "diesel", "kind"), f"{path}: {exc}")]) from None
        elif c.diesel.kind is not None:
            raise InputFileError([loaded.doc.problem(
                ("costs", "diesel", "kind"), f"{path} has no 'kind' column: kind cannot choose its rows")])
        else:
            diesel = Series.from_csv(path)
    exchange = given(c.exchange_rate)
    if exchange is None:
        exchange = Series.from_csv(loaded.resolve(c.exchange_rate.file)) if c.exchange_rate.file \
            else sourced_exchange_rate()
    return Prices(diesel=diesel, exchange=exchange, diesel_currency=c.diesel.currency or "SYP")


def _check_days(start: Date, end: Date, *series: Series) -> list[Date]:
    """The days a step function of the period can change: its start and the change dates inside it."""
    days = {start}
    for s in series:
        days.update(d for d in s.dates if start < d < end)
    return sorted(days)


def _outside(value: float, low: float, high: float) -> float:
    """How many times ``value`` lies above ``high`` or below ``low`` (1: inside)."""
    return value / high if value > high else low / value if value < low else 1.0


def _around(series: Series, day: Date) -> list[Date]:
    """``day`` and the next date ``series`` changes on: sourced series are sparse observations, so the
    price of a day lies somewhere between the value in force and the next one."""
    later = [d for d in series.dates if d > day]
    return [day, later[0]] if later else [day]


def _num(x: float) -> str:
    return f"{x:,.0f}" if x >= 100 else f"{x:.3g}"


def _span(low: float, high: float) -> str:
    return _num(low) if _num(low) == _num(high) else f"{_num(low)}–{_num(high)}"


def price_warnings(loaded: LoadedScenario, prices: Prices | None = None) -> list[str]:
    """Warnings for prices far from the sourced series around their date.

    The sourced series are sparse observations, so the reference of a day is
    the range from the value in force to the next sourced one. A diesel price
    more than :data:`PLAUSIBLE_FACTOR` times above the highest reference
    (of the subsidised and market series, in the price's currency: for a USD
    price, the sourced SYP prices at the sourced exchange rate of the same
    dates) or below the lowest divided by the factor, and an exchange rate
    as far from the sourced rates, give one warning each, for the day they are
    farthest off. Prices from the shipped series are the reference and are not
    checked.

    Parameters
    ----------
    prices
        The scenario's prices if already built (default: :func:`scenario_prices`).
    """
    sc = loaded.scenario
    prices = prices if prices is not None else scenario_prices(loaded)
    rows = read_price_rows(prices_dir() / "diesel_syp.csv")
    # the official series stops in 2015; subsidised and market carry on from it
    kinds = [kind_series(rows, k) for k in ("subsidised", "market")]
    rate = sourced_exchange_rate()
    out: list[str] = []

    def worst(values: Series, references: Callable[[Date], list[float]]
              ) -> tuple[float, Date, float, float, float] | None:
        """The day ``values`` is farthest outside the references, if more than the factor."""
        found = None
        for day in _check_days(sc.start, sc.end, values, *kinds, rate):
            refs = references(day)
            low, high = min(refs), max(refs)
            value = values.at(day)
            off = _outside(value, low, high)
            if off > PLAUSIBLE_FACTOR and (found is None or off > found[0]):
                found = (off, day, value, low, high)
        return found

    def say(what: str, unit: str, source: str, hit: tuple[float, Date, float, float, float], tail: str = "") -> None:
        off, day, value, low, high = hit
        out.append(f"{what} {value:g} {unit} on {day} is {off:.0f}× {'above' if value > high else 'below'} "
                   f"the sourced {_span(low, high)} {unit} around that day ({source}){tail}")

    if not sc.costs.diesel.shipped:
        usd = sc.costs.diesel.currency == "USD"

        def diesel_refs(day: Date) -> list[float]:
            return [s.at(t) / (rate.at(t) if usd else 1.0) for s in kinds for t in _around(s, day)]

        hit = worst(prices.diesel, diesel_refs)
        if hit is not None:
            say("diesel", "USD/L" if usd else "SYP/L", "data/prices/diesel_syp.csv", hit,
                "; check the value and its currency")
    if not sc.costs.exchange_rate.shipped:
        hit = worst(prices.exchange, lambda day: [rate.at(t) for t in _around(rate, day)])
        if hit is not None:
            say("exchange rate", "SYP/USD", "data/prices/syp_per_usd.csv", hit)
    return out
