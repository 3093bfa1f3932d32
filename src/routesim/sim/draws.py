"""Per-replication draws of a scenario's uncertain inputs, and the inputs they give.

Replication ``r`` (1-based) draws factor ``f`` (index ``i`` in
:data:`routesim.models.uncertainty.FACTORS`) from its own stream,
``numpy.random.SeedSequence(seed, spawn_key=(DRAW_STREAM, r - 1, i))``: apart
from the simulation's streams (spawn keys ``(r - 1,)``, see
:func:`routesim.sim.replications.replication_seeds`), and one per factor, so
giving or dropping one factor never changes another's draws. Each stream gives
one uniform number ``u``, and the factor is the distribution's quantile at
``u``. Two scenarios run with the same seed therefore get the same ``u`` in
every replication: common random numbers, and a higher quantile in both
when their distributions differ.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date as Date

import numpy as np

from routesim.demand.flows import Flow
from routesim.models.uncertainty import FACTORS, Uncertainty
from routesim.sim.model import Prices, SimConfig

__all__ = ["DRAW_STREAM", "ScaledPrices", "apply_draws", "replication_draws"]

#: First spawn key of the draw streams: far beyond any replication index, so no
#: draw stream is ever one of the simulation's.
DRAW_STREAM = 2**31 - 1


def replication_draws(uncertainty: Uncertainty | None, *, seed: int, n: int) -> list[dict[str, float]]:
    """The factors of replications ``1..n``: one dict per replication, by factor name.

    Empty dicts without ``uncertainty``. The first ``k`` do not depend on ``n``.
    """
    if uncertainty is None:
        return [{} for _ in range(n)]
    given = uncertainty.factors()
    entropy = int(seed) % 2**64  # as replication_seeds: any int, negatives distinct
    out = []
    for r in range(n):
        draws = {}
        for i, name in enumerate(FACTORS):
            if name in given:
                rng = np.random.default_rng(np.random.SeedSequence(entropy, spawn_key=(DRAW_STREAM, r, i)))
                # random() is in [0, 1): the quantile functions need 0 < u < 1.
                u = float(rng.random()) or float(np.nextafter(0.0, 1.0))
                draws[name] = given[name].quantile(u)
        out.append(draws)
    return out


@dataclass(frozen=True)
class ScaledPrices:
    """A price source whose diesel price is ``factor`` times ``base``'s (exchange rate unchanged)."""

    base: Prices
    factor: float

    def diesel_syp_per_l(self, day: Date) -> float:
        return self.base.diesel_syp_per_l(day) * self.factor

    def syp_per_usd(self, day: Date) -> float:
        return self.base.syp_per_usd(day)


def apply_draws(
    draws: dict[str, float], *, flows: Sequence[Flow], prices: Prices, config: SimConfig,
) -> tuple[list[Flow], Prices, SimConfig]:
    """The flows, prices and engine settings of a replication with factors ``draws``.

    ``demand`` scales each flow's ``trucks_per_day`` and ``tons_per_day``;
    ``diesel`` the diesel price (:class:`ScaledPrices`); ``speed`` and
    ``checkpoint_delay`` set ``config.speed_factor`` and ``config.delay_factor``.
    Inputs without a draw are returned unchanged (the same objects).
    """
    out_flows = list(flows)
    if "demand" in draws:
        k = draws["demand"]
        out_flows = [
            dataclasses.replace(f, trucks_per_day=f.trucks_per_day * k,
                                tons_per_day=None if f.tons_per_day is None else f.tons_per_day * k)
            for f in flows
        ]
    out_prices: Prices = ScaledPrices(prices, draws["diesel"]) if "diesel" in draws else prices
    out_config = config
    if "speed" in draws or "checkpoint_delay" in draws:
        out_config = dataclasses.replace(config, speed_factor=draws.get("speed", config.speed_factor),
                                         delay_factor=draws.get("checkpoint_delay", config.delay_factor))
    return out_flows, out_prices, out_config
