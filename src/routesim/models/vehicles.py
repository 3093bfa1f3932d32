"""Vehicle classes: the vocabulary files and per-vehicle arrays share."""

from __future__ import annotations

from typing import Literal

Vehicle = Literal["car", "truck"]

#: Vehicle classes known to the network; index into per-vehicle arrays such as
#: :attr:`routesim.network.NetworkState.closed`.
VEHICLES: tuple[str, ...] = ("car", "truck")


def vehicle_index(vehicle: str) -> int:
    """Row of ``vehicle`` in per-vehicle arrays.

    Raises
    ------
    ValueError
        For a class other than ``car`` or ``truck``.
    """
    try:
        return VEHICLES.index(vehicle)
    except ValueError:
        raise ValueError(f"unknown vehicle {vehicle!r}; expected one of {list(VEHICLES)}") from None
