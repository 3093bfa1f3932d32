"""Uncertain inputs of a scenario: distributions of multiplicative factors.

Each factor multiplies one input of the freight simulation, drawn anew for each
replication (:mod:`routesim.sim.draws`): ``demand`` (every flow's trucks and
tonnes per day), ``diesel`` (the diesel price of every day), ``speed`` (every
free-flow speed) and ``checkpoint_delay`` (every checkpoint's mean delay). A
factor not given stays 1. Factors are drawn by inverse transform of one uniform
number per factor and replication, so two scenarios with the same seed get the
same draws (common random numbers), even when their distributions differ.

Example::

    uncertainty:
      demand: {dist: lognormal, cv: 0.2}          # mean 1, coefficient of variation 0.2
      diesel: {dist: triangular, low: 0.8, mode: 1.0, high: 1.5}
      speed: {dist: uniform, low: 0.9, high: 1.05}
      checkpoint_delay: {dist: fixed, value: 1.5}

Ranges: every factor lies in ``[FACTOR_MIN, FACTOR_MAX]`` (0.01 to 10): a
lognormal's ``mean`` must, and so must the bounds of the others; a lognormal's
``cv`` is at most 1 (its draws are not truncated: a cv of 1 puts one draw in
1,000 above 9.3 times the mean).
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Annotated, Literal

from pydantic import Field, model_validator

from routesim.models.base import StrictModel

__all__ = ["FACTORS", "FACTOR_MAX", "FACTOR_MIN", "Factor", "Fixed", "Lognormal", "Triangular", "Uncertainty",
           "Uniform"]

#: Smallest and largest factor a distribution may give (or be centred on).
FACTOR_MIN = 0.01
FACTOR_MAX = 10.0
#: The factors, in the order of their random streams (do not reorder: it would change the draws).
FACTORS = ("demand", "diesel", "speed", "checkpoint_delay")

Bound = Annotated[float, Field(ge=FACTOR_MIN, le=FACTOR_MAX, allow_inf_nan=False)]


class Lognormal(StrictModel):
    """Lognormal with mean ``mean`` (default 1) and coefficient of variation ``cv``.

    Example: ``{dist: lognormal, cv: 0.2}`` (median 0.981, 90 % of draws in 0.71-1.36).
    """

    dist: Literal["lognormal"]
    cv: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)]
    mean: Bound = 1.0

    def quantile(self, u: float) -> float:
        """The factor at cumulative probability ``u`` (0 < u < 1)."""
        sigma2 = math.log1p(self.cv**2)
        mu = math.log(self.mean) - sigma2 / 2.0
        return math.exp(mu + math.sqrt(sigma2) * NormalDist().inv_cdf(u))


class Triangular(StrictModel):
    """Triangular from ``low`` to ``high``, peaking at ``mode``.

    Example: ``{dist: triangular, low: 0.8, mode: 1.0, high: 1.5}``.
    """

    dist: Literal["triangular"]
    low: Bound
    mode: Bound
    high: Bound

    @model_validator(mode="after")
    def _ordered(self) -> Triangular:
        if not (self.low <= self.mode <= self.high) or self.high <= self.low:
            raise ValueError("need low <= mode <= high and low < high")
        return self

    def quantile(self, u: float) -> float:
        """The factor at cumulative probability ``u`` (0 < u < 1)."""
        a, c, b = self.low, self.mode, self.high
        split = (c - a) / (b - a)
        if u < split:
            return a + math.sqrt(u * (b - a) * (c - a))
        return b - math.sqrt((1.0 - u) * (b - a) * (b - c))


class Uniform(StrictModel):
    """Uniform between ``low`` and ``high``. Example: ``{dist: uniform, low: 0.9, high: 1.1}``."""

    dist: Literal["uniform"]
    low: Bound
    high: Bound

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.high <= self.low:
            raise ValueError("high must be above low")
        return self

    def quantile(self, u: float) -> float:
        """The factor at cumulative probability ``u`` (0 < u < 1)."""
        return self.low + u * (self.high - self.low)


class Fixed(StrictModel):
    """A known factor, the same in every replication. Example: ``{dist: fixed, value: 1.2}``."""

    dist: Literal["fixed"]
    value: Bound

    def quantile(self, u: float) -> float:
        """``value``, whatever ``u``."""
        return self.value


#: One factor's distribution, chosen by its ``dist`` key.
Factor = Annotated[Lognormal | Triangular | Uniform | Fixed, Field(discriminator="dist")]


class Uncertainty(StrictModel):
    """Distributions of the factors on a scenario's inputs, drawn per replication.

    ``demand`` scales every flow's trucks (and tonnes) per day, ``diesel`` the
    diesel price, ``speed`` every free-flow speed, ``checkpoint_delay`` every
    checkpoint's mean delay; a factor left out is 1. The route-level estimate
    uses the inputs as given (factor 1).

    Example::

        uncertainty:
          demand: {dist: lognormal, cv: 0.15}
          diesel: {dist: triangular, low: 0.8, mode: 1.0, high: 1.6}
          speed: {dist: uniform, low: 0.9, high: 1.05}
    """

    demand: Factor | None = None
    diesel: Factor | None = None
    speed: Factor | None = None
    checkpoint_delay: Factor | None = None

    def factors(self) -> dict[str, Lognormal | Triangular | Uniform | Fixed]:
        """The factors given, by name, in :data:`FACTORS` order."""
        return {name: d for name in FACTORS if (d := getattr(self, name)) is not None}
