"""routesim: route and logistics impact simulator for Syria's road network.

The data flows one way: scenario -> network state at a date -> routes ->
simulation -> results. Start with :func:`load_network`.
"""

from routesim.errors import RoutesimError, UnknownPlaceError
from routesim.io import load_network, save_network
from routesim.network import Network
from routesim.route import Detour, Route
from routesim.state import NetworkState

__version__ = "0.1.0"

__all__ = [
    "Detour",
    "Network",
    "NetworkState",
    "Route",
    "RoutesimError",
    "UnknownPlaceError",
    "__version__",
    "load_network",
    "save_network",
]
