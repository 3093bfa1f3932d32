"""Pictures of the network and of runs: maps, charts and the HTML report.

:mod:`~routesim.report.scene` computes what a map shows (road states on a date,
areas of control, crossings, sieges, routes, flows, criticality) without
drawing; :mod:`~routesim.report.maps` draws it with matplotlib (PNG, SVG, PDF)
and :mod:`~routesim.report.html` as one offline HTML page;
:mod:`~routesim.report.charts` draws runs and timelines;
:mod:`~routesim.report.page` writes the report of result folders. Modules are
imported by name (this package imports none of them, so nothing here loads
matplotlib until a picture is asked for).
"""
