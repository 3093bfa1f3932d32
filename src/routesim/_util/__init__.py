"""Helpers with no knowledge of roads: dates, geodesy, atomic file writes, line-aware YAML.

The lowest layer of the package: it imports nothing from routesim but
:mod:`routesim.errors`.
"""
