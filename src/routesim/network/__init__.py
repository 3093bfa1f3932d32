"""The road network: graph, compiled edge arrays, routing core, states and routes.

Modules, from the bottom up: :mod:`~routesim.network.places` (names and
lookup), :mod:`~routesim.network.state` (per-edge usability arrays),
:mod:`~routesim.network.edges` (the compiled edge table),
:mod:`~routesim.network.core` (shortest paths on CSR matrices),
:mod:`~routesim.network.lookup` and :mod:`~routesim.network.spatial` (finding
nodes and edges), :mod:`~routesim.network.selection` (selectors to edge masks),
:mod:`~routesim.network.route` (route results) and
:mod:`~routesim.network.graph` (the :class:`Network` that holds them together).
"""

from routesim.network.graph import Network, StateSource
from routesim.network.places import Place, PlaceIndex, normalize_name
from routesim.network.route import Detour, Route
from routesim.network.state import NetworkState

__all__ = ["Detour", "Network", "NetworkState", "Place", "PlaceIndex", "Route", "StateSource", "normalize_name"]
