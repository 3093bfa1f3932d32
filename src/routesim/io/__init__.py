"""Reading and writing files: networks (embedded, GraphML, GeoJSON, GeoPackage, OSM),
scenario files and result folders.

The names below are imported on first use: loading a network for a route must
not import pandas and pyarrow, which only result tables need.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from routesim._util.lazy import lazy_exports

if TYPE_CHECKING:
    from routesim.io.graphfiles import NETWORK_SUFFIXES, load_network, save_network
    from routesim.io.results import SUMMARY_COLUMNS, RunTables, read_table, write_table
    from routesim.io.scenario_file import LoadedScenario, read_scenario

_LAZY = {
    "NETWORK_SUFFIXES": "routesim.io.graphfiles",
    "load_network": "routesim.io.graphfiles",
    "save_network": "routesim.io.graphfiles",
    "SUMMARY_COLUMNS": "routesim.io.results",
    "RunTables": "routesim.io.results",
    "read_table": "routesim.io.results",
    "write_table": "routesim.io.results",
    "LoadedScenario": "routesim.io.scenario_file",
    "read_scenario": "routesim.io.scenario_file",
}

__all__ = [
    "NETWORK_SUFFIXES",
    "SUMMARY_COLUMNS",
    "LoadedScenario",
    "RunTables",
    "load_network",
    "read_scenario",
    "read_table",
    "save_network",
    "write_table",
]


__getattr__, __dir__ = lazy_exports("routesim.io", _LAZY, globals(), __all__)
