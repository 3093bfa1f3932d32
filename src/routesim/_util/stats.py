"""Confidence intervals of means and of differences of means (Student-t)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy.special import stdtrit

__all__ = ["finite", "interval", "welch_interval"]


def finite(values: Sequence[float | None]) -> np.ndarray:
    """The finite values of ``values`` (None, nan and infinities dropped), as floats."""
    return np.asarray([v for v in values if v is not None and math.isfinite(v)], dtype=float)


def interval(values: Sequence[float | None], *, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and Student-t confidence interval of the mean of ``values``.

    Returns ``(mean, low, high)``; ``low``/``high`` are nan with fewer than two
    finite values. Identical values give ``low == high == mean``. ``level``
    defaults to 95 %.
    """
    x = finite(values)
    if len(x) == 0:
        return math.nan, math.nan, math.nan
    mean = float(x.mean())
    if len(x) < 2:
        return mean, math.nan, math.nan
    # stdtrit is the Student-t quantile; scipy.stats would cost ~0.8 s of import per run.
    half = float(stdtrit(len(x) - 1, 0.5 + level / 2.0) * x.std(ddof=1) / math.sqrt(len(x)))
    return mean, mean - half, mean + half


def welch_interval(
    a: Sequence[float | None], b: Sequence[float | None], *, level: float = 0.95,
) -> tuple[float, float, float]:
    """Difference of means ``mean(b) - mean(a)`` and its Welch confidence interval.

    For independent samples of possibly different variances and sizes (the
    Welch-Satterthwaite degrees of freedom). Returns ``(difference, low, high)``;
    ``low``/``high`` are nan unless both samples have two finite values or more.
    ``level`` defaults to 95 %.
    """
    x, y = finite(a), finite(b)
    if len(x) == 0 or len(y) == 0:
        return math.nan, math.nan, math.nan
    diff = float(y.mean() - x.mean())
    if len(x) < 2 or len(y) < 2:
        return diff, math.nan, math.nan
    vx, vy = x.var(ddof=1) / len(x), y.var(ddof=1) / len(y)
    se2 = vx + vy
    if se2 == 0:
        return diff, diff, diff
    dof = se2**2 / (vx**2 / (len(x) - 1) + vy**2 / (len(y) - 1))
    half = float(stdtrit(dof, 0.5 + level / 2.0) * math.sqrt(se2))
    return diff, diff - half, diff + half
