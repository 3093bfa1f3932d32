"""Reading and writing files: networks (embedded, GraphML, GeoJSON, GeoPackage, OSM),
scenario files and result folders."""

from routesim.io.graphfiles import NETWORK_SUFFIXES, load_network, save_network
from routesim.io.results import SUMMARY_COLUMNS, RunTables, read_table, write_table
from routesim.io.scenario_file import LoadedScenario, read_scenario

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
