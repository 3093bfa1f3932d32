"""What an event does to the segments it selects: a registry of effects.

An effect is a function ``(state, mask, vehicles, event) -> None`` that edits the
arrays of a fresh :class:`~routesim.network.NetworkState` in place for the edges in
``mask`` and the vehicle rows in ``vehicles``. Events are applied in date order,
so an effect *overrides* whatever earlier events did on those edges.

Built-in effects: ``close``, ``open`` and ``restrict``. Register new ones with
:func:`register_effect`; the event model then accepts them as ``action``::

    from routesim.events import register_effect

    def toll(state, mask, vehicles, event):
        state.fee_usd[mask] += float(event.params["usd"])

    register_effect("toll", toll, precedence=1)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from routesim.models.events import Event
from routesim.models.vehicles import vehicle_index
from routesim.network.state import NetworkState

EffectFn = Callable[[NetworkState, np.ndarray, Sequence[int], Event], None]


@dataclass(frozen=True)
class Effect:
    """A registered effect; ``precedence`` orders events starting on the same day
    (higher is applied later, so it wins)."""

    name: str
    apply: EffectFn
    precedence: int = 0


_REGISTRY: dict[str, Effect] = {}


def register_effect(name: str, fn: EffectFn, *, precedence: int = 1, replace: bool = False) -> Effect:
    """Register an effect under ``name`` (usable as an event ``action``).

    Parameters
    ----------
    name
        Action name, lower-case.
    fn
        The effect function (see the module docstring).
    precedence
        Order among events starting the same day: ``open`` is 0, ``restrict`` 1,
        ``close`` 2; the highest is applied last. Default 1.
    replace
        Allow overriding an existing registration (default ``False``).
    """
    if name in _REGISTRY and not replace:
        raise ValueError(f"effect {name!r} is already registered")
    effect = Effect(name=name, apply=fn, precedence=precedence)
    _REGISTRY[name] = effect
    return effect


def unregister_effect(name: str) -> None:
    """Remove a registered effect (built-ins included, so use with care)."""
    _REGISTRY.pop(name, None)


def get_effect(name: str) -> Effect:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown action {name!r}; known: {', '.join(sorted(_REGISTRY))}") from None


def effect_names() -> list[str]:
    return sorted(_REGISTRY)


def _reset_restrictions(state: NetworkState, mask: np.ndarray) -> None:
    state.speed_factor[mask] = 1.0
    state.capacity_factor[mask] = 1.0
    state.delay_s[mask] = 0.0
    state.fee_usd[mask] = 0.0
    state.fee_syp[mask] = 0.0
    state.queue_tph[mask] = 0.0
    state.queue_lanes[mask] = 0


def _close(state: NetworkState, mask: np.ndarray, vehicles: Sequence[int], event: Event) -> None:
    for v in vehicles:
        state.closed[v, mask] = True


def _open(state: NetworkState, mask: np.ndarray, vehicles: Sequence[int], event: Event) -> None:
    for v in vehicles:
        state.closed[v, mask] = False
    if len(vehicles) == state.closed.shape[0]:
        _reset_restrictions(state, mask)
        state.night_closed[mask] = False


def _restrict(state: NetworkState, mask: np.ndarray, vehicles: Sequence[int], event: Event) -> None:
    r = event.restrict
    _reset_restrictions(state, mask)
    for v in vehicles:
        state.closed[v, mask] = False
    if r is None:
        return
    if r.speed_factor is not None:
        state.speed_factor[mask] = r.speed_factor
    if r.capacity_factor is not None:
        state.capacity_factor[mask] = r.capacity_factor
    if r.delay_min is not None:
        state.delay_s[mask] = r.delay_min * 60.0
    if r.queue is not None:
        state.queue_tph[mask] = r.queue.trucks_per_hour
        state.queue_lanes[mask] = r.queue.lanes or 0
    if r.fee is not None:
        target = state.fee_usd if r.fee.currency == "USD" else state.fee_syp
        target[mask] = r.fee.amount
    for name in r.exclude:
        state.closed[vehicle_index(name), mask] = True
    if r.night_closed is not None:
        state.night_closed[mask] = r.night_closed


register_effect("open", _open, precedence=0)
register_effect("restrict", _restrict, precedence=1)
register_effect("close", _close, precedence=2)
