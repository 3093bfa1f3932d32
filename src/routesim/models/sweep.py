"""Sweep files: many variants of one scenario, described by axes of overrides.

A sweep names a base scenario and *axes*. Each axis gives values to one or more
paths into the base scenario's YAML (``costs.diesel.value``,
``events.inline[0].date``, ``demand[*].trucks_per_day``); a path ending in ``*``
multiplies the value found there by a factor instead of replacing it. The
variants are every combination of one entry of each axis (the Cartesian
product of the axes, in file order).

Example::

    name: m5-reopening-study             # results folder (default: the file name)
    base: ../m5-closed-2016.yaml         # relative to this file
    set: {simulation.replications: 3}    # overrides of every variant (before the axes')
    presets:                             # named sets of overrides, for a `preset` axis
      quiet: {"demand[*].trucks_per_day*": 0.5}
      busy: {"demand[*].trucks_per_day*": 1.5, costs.value_of_time_usd_h: 15}
    axes:
      - grid:                            # every combination of these values
          events.inline[0].date: [2016-03-01, 2016-06-01, 2016-09-01]
          costs.diesel.value: [150, 200]
      - zip:                             # the i-th values go together
          costs.exchange_rate.value: [400, 450]
          costs.value_of_time_usd_h: [8, 10]
      - scale:                           # factors on the values found at these paths
          demand[*].trucks_per_day: [0.8, 1.0, 1.2]
      - samples:                         # n joint draws (Monte Carlo)
          n: 20
          seed: 7
          draw:
            costs.diesel.value: {dist: triangular, low: 150, mode: 200, high: 300}
            "demand[*].trucks_per_day*": {dist: lognormal, median: 1.0, sigma: 0.2}
      - preset: [quiet, busy]
    metrics: [sim.cost_per_ton_usd, route.extra_vehicle_km]   # default: every summary metric
    outputs: {runs: false, sensitivity: true}
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from routesim.models.base import StrictModel

#: A path into the scenario (``costs.diesel.value``); a trailing ``*`` makes the value a factor.
OverridePath = Annotated[str, Field(min_length=1)]


class Uniform(StrictModel):
    """Uniform between ``low`` and ``high``: ``{dist: uniform, low: 150, high: 300}``."""

    dist: Literal["uniform"]
    low: float
    high: float

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.high <= self.low:
            raise ValueError("high must be above low")
        return self


class Triangular(StrictModel):
    """Triangular from ``low`` to ``high``, peaking at ``mode``: ``{dist: triangular, low: 1, mode: 2, high: 4}``."""

    dist: Literal["triangular"]
    low: float
    mode: float
    high: float

    @model_validator(mode="after")
    def _ordered(self) -> Triangular:
        if not (self.low <= self.mode <= self.high) or self.high <= self.low:
            raise ValueError("need low <= mode <= high and low < high")
        return self


class Normal(StrictModel):
    """Normal with ``mean`` and standard deviation ``sd``: ``{dist: normal, mean: 200, sd: 20}``."""

    dist: Literal["normal"]
    mean: float
    sd: Annotated[float, Field(gt=0)]


class LogNormal(StrictModel):
    """Log-normal: ``median * exp(sigma * z)``, z standard normal: ``{dist: lognormal, median: 1, sigma: 0.2}``.

    Positive by construction, so it suits prices and scale factors.
    """

    dist: Literal["lognormal"]
    median: Annotated[float, Field(gt=0)]
    sigma: Annotated[float, Field(gt=0)]


class Choice(StrictModel):
    """One of ``values``, with optional relative ``weights``: ``{dist: choice, values: [a, b], weights: [3, 1]}``."""

    dist: Literal["choice"]
    values: Annotated[list[Any], Field(min_length=1)]
    weights: list[Annotated[float, Field(ge=0)]] | None = None

    @model_validator(mode="after")
    def _weights(self) -> Choice:
        if self.weights is not None and (len(self.weights) != len(self.values) or sum(self.weights) <= 0):
            raise ValueError("weights: one non-negative weight per value, with a positive sum")
        return self


Distribution = Annotated[Uniform | Triangular | Normal | LogNormal | Choice, Field(discriminator="dist")]


class Samples(StrictModel):
    """``n`` joint random draws of the paths in ``draw``, reproducible from ``seed``.

    Example::

        samples:
          n: 50
          seed: 2016
          draw:
            costs.diesel.value: {dist: uniform, low: 150, high: 300}
            "demand[*].trucks_per_day*": {dist: lognormal, median: 1.0, sigma: 0.25}
    """

    n: Annotated[int, Field(ge=1, le=100_000)]
    seed: int
    draw: Annotated[dict[OverridePath, Distribution], Field(min_length=1)]


class Axis(StrictModel):
    """One axis of a sweep: exactly one of ``grid``, ``zip``, ``scale``, ``samples`` or ``preset``.

    ``grid``: every combination of the listed values. ``zip``: lists of equal
    length, the i-th values taken together. ``scale``: like ``grid``, the values
    being factors on what the base scenario has at each path. ``samples``: random
    draws (:class:`Samples`). ``preset``: names of ``presets`` of the sweep file;
    its column in the tables is ``name`` (default ``preset``).

    Example::

        axes:
          - grid: {costs.diesel.value: [150, 200, 250]}
          - preset: [quiet, busy]
    """

    grid: dict[OverridePath, Annotated[list[Any], Field(min_length=1)]] | None = None
    zip: dict[OverridePath, Annotated[list[Any], Field(min_length=1)]] | None = None
    scale: dict[OverridePath, Annotated[list[float], Field(min_length=1)]] | None = None
    samples: Samples | None = None
    preset: Annotated[list[str], Field(min_length=1)] | None = None
    name: Annotated[str, Field(min_length=1)] | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Axis:
        given = [k for k in ("grid", "zip", "scale", "samples", "preset") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of grid, zip, scale, samples or preset")
        for kind in ("grid", "zip", "scale"):
            paths = getattr(self, kind)
            if paths is not None and not paths:
                raise ValueError(f"{kind}: give at least one path")
        if self.zip is not None:
            lengths = {len(v) for v in self.zip.values()}
            if len(lengths) > 1:
                raise ValueError(f"zip: every list needs the same length (got {sorted(lengths)})")
        if self.name is not None and self.preset is None:
            raise ValueError("name is only for a preset axis (other columns are named by their paths)")
        return self

    @property
    def kind(self) -> str:
        """``grid``, ``zip``, ``scale``, ``samples`` or ``preset``."""
        return next(k for k in ("grid", "zip", "scale", "samples", "preset") if getattr(self, k) is not None)


class SweepOutputs(StrictModel):
    """What a sweep writes besides ``sweep.csv`` and ``sweep.parquet``.

    ``runs``: keep each variant's result folder (``runs/<hash>/``, as ``routesim
    run`` writes it; default false: only its summary is kept). ``sensitivity``:
    write ``sensitivity.csv``, how far each parameter moves each metric (default true).

    Example::

        outputs: {runs: true}
    """

    runs: bool = False
    sensitivity: bool = True


class Sweep(StrictModel):
    """A sweep file: a base scenario, axes of overrides, the metrics to keep.

    ``set`` changes the base for every variant (``simulation.freight: false`` for
    a route-level sweep). ``metrics`` names summary metrics as ``engine.metric`` (``sim.cost_per_ton_usd``)
    or ``metric`` (every engine that has it); empty (the default) keeps them all.
    See the module docstring for a full example.

    Example::

        base: ../m4-west-2021.yaml
        axes:
          - grid: {costs.value_of_time_usd_h: [5, 10, 20]}
        metrics: [route.total_cost_usd]
    """

    name: Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")] | None = None
    description: str = ""
    base: Annotated[str, Field(min_length=1)]
    #: Overrides applied to every variant, before those of the axes (``path*`` for a factor).
    set: dict[OverridePath, Any] = Field(default_factory=dict)
    presets: dict[str, dict[OverridePath, Any]] = Field(default_factory=dict)
    axes: list[Axis] = Field(default_factory=list)
    metrics: list[Annotated[str, Field(min_length=1)]] = Field(default_factory=list)
    outputs: SweepOutputs = Field(default_factory=SweepOutputs)
