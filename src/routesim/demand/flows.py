"""Freight demand as flows: trucks per day between two places, and the trucks that carry it.

A scenario's demand rows become :class:`Flow` objects once
(:func:`scenario_flows`); the route-level estimate and the simulation both
work from them.
"""

from __future__ import annotations

from dataclasses import dataclass

from routesim.models.scenario import Scenario


@dataclass(frozen=True)
class TruckClass:
    """A kind of truck.

    Attributes
    ----------
    name
        Label in the results (``vehicle`` column).
    payload_t
        Payload at load factor 1, tonnes.
    fuel_empty_l_100km, fuel_loaded_l_100km
        Diesel use empty and fully loaded, litres per 100 km.
    speed_factor
        Multiplier of the network's free-flow truck speed.
    max_kph
        Speed cap, km/h (``None``: none).
    """

    name: str = "truck"
    payload_t: float = 25.0
    fuel_empty_l_100km: float = 28.0
    fuel_loaded_l_100km: float = 38.0
    speed_factor: float = 1.0
    max_kph: float | None = None

    def litres_per_km(self, load_factor: float) -> float:
        """Diesel use per km at ``load_factor`` (0 = empty, 1 = full payload)."""
        rate = self.fuel_empty_l_100km + (self.fuel_loaded_l_100km - self.fuel_empty_l_100km) * load_factor
        return rate / 100.0


@dataclass(frozen=True)
class Flow:
    """Trucks per day between two places.

    Attributes
    ----------
    id
        Label in the results (``flow`` column).
    origin, destination
        Anything :meth:`routesim.network.Network.node_index` accepts.
    trucks_per_day
        Mean trucks dispatched per day (the fraction is drawn, see the module docs).
    truck
        Truck class.
    load_factor
        Share of the payload carried (fuel is interpolated empty to loaded).
    depart_hours
        Departure window ``(from, to)`` in hours of the day, ``0 <= from < to <= 24``;
        departures are uniform within it.
    depart_profile
        Instead of a window: 24 relative weights of the clock hours 0-23
        (departures uniform within each hour). ``None``: use ``depart_hours``.
    return_empty
        Also drive each delivered truck back empty (a trip of its own).
    commodity
        Free label.
    fee_usd_per_trip
        Fixed charge per loaded trip (permits, brokers), paid at departure.
    tons_per_day
        Tonnes per day as the demand gives them; default trucks x tonnes per truck.
    """

    id: str
    origin: str
    destination: str
    trucks_per_day: float
    truck: TruckClass
    load_factor: float = 1.0
    depart_hours: tuple[float, float] = (5.0, 20.0)
    depart_profile: tuple[float, ...] | None = None
    return_empty: bool = False
    commodity: str = ""
    fee_usd_per_trip: float = 0.0
    tons_per_day: float | None = None

    @property
    def tons_per_truck(self) -> float:
        return self.truck.payload_t * self.load_factor

    @property
    def tons(self) -> float:
        """Tonnes per day."""
        return self.tons_per_day if self.tons_per_day is not None else self.trucks_per_day * self.tons_per_truck


def scenario_flows(scenario: Scenario) -> list[Flow]:
    """One :class:`Flow` per direction of each demand row.

    Trucks per day are the demand's ``trucks_per_day``, or ``tons_per_day``
    divided by payload x load factor (tonnes per day likewise the other way);
    ``both_directions`` adds a ``<id>-back`` flow with the same volume. Flow
    ids default to ``flow-<row>``.
    """
    classes = {
        name: TruckClass(
            name=name, payload_t=v.payload_t, fuel_empty_l_100km=v.fuel_empty_l_100km,
            fuel_loaded_l_100km=v.fuel_loaded_l_100km, speed_factor=v.speed_factor, max_kph=v.max_kph,
        )
        for name, v in scenario.vehicles.items()
    }
    fee = scenario.costs.fee_usd_per_trip
    flows = []
    for i, d in enumerate(scenario.demand):
        truck = classes[d.vehicle]
        per_truck = truck.payload_t * d.load_factor
        trucks = d.trucks_per_day if d.trucks_per_day is not None else (d.tons_per_day or 0.0) / per_truck
        tons = d.tons_per_day if d.tons_per_day is not None else trucks * per_truck
        base_id = d.id or f"flow-{i + 1}"
        pairs = [(d.origin, d.destination)] + ([(d.destination, d.origin)] if d.both_directions else [])
        for k, (o, t) in enumerate(pairs):
            flows.append(Flow(
                id=f"{base_id}{'-back' if k else ''}", origin=o, destination=t, trucks_per_day=trucks,
                truck=truck, load_factor=d.load_factor,
                depart_hours=(float(d.depart_window[0]), float(d.depart_window[1])),
                depart_profile=tuple(d.depart_profile) if d.depart_profile else None,
                return_empty=d.return_empty, commodity=d.commodity, fee_usd_per_trip=fee, tons_per_day=tons,
            ))
    return flows
