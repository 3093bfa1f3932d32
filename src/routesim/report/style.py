"""The look shared by static and interactive maps: colours, widths and the words of the legend.

One table serves matplotlib and the HTML map, so a PNG pasted into a report and
the HTML a reader pans around say the same thing in the same colours.
"""

from __future__ import annotations

#: Road state classes, drawn in this order (a later class on top). Values index :data:`STATUS_COLOURS`.
OPEN, RESTRICTED, NIGHT_CLOSED, CLOSED = 0, 1, 2, 3
STATUS_NAMES = ("open", "restricted", "night-closed", "closed")
STATUS_COLOURS = ("#8c8c8c", "#f59e0b", "#7c3aed", "#d7191c")
STATUS_LABELS = (
    "open",
    "restricted (slower, checkpoint, fee, or closed to trucks)",
    "closed at night (20:00–05:00)",
    "closed (event, front line or siege)",
)
#: Colour of the centre line drawn over front-line and siege edges.
FRONT_COLOUR = "#111111"
ROUTE_COLOUR = "#0b6e4f"
BASELINE_COLOUR = "#1f1f1f"
FLOW_COLOUR = "#2563eb"
OUTLINE_COLOUR = "#4b5563"
CROSSING_COLOUR = "#059669"
BORDER_POST_COLOUR = "#1e3a8a"
SIEGE_COLOUR = "#991b1b"
#: Controllers of :mod:`routesim.control` (unknown ones get a grey).
CONTROLLER_COLOURS = {
    "government": "#e11d48",
    "opposition": "#16a34a",
    "hts": "#65a30d",
    "sna": "#84cc16",
    "isis": "#57534e",
    "sdf": "#eab308",
    "transitional": "#0ea5e9",
    "druze": "#a855f7",
    "turkey": "#9ca3af",
    "lebanon": "#9ca3af",
    "jordan": "#9ca3af",
    "iraq": "#9ca3af",
    "israel": "#9ca3af",
}
OTHER_CONTROLLER = "#d1d5db"
#: Controllers that are states beside Syria: one legend entry for them all.
NEIGHBOURS = frozenset({"turkey", "lebanon", "jordan", "iraq", "israel"})
#: Road classes ranked for line width; links and unknown classes rank lowest.
CLASS_RANK = {"motorway": 4, "trunk": 3, "primary": 2, "secondary": 1, "tertiary": 0}
#: Line width (points) by class rank, for a map of the whole country.
CLASS_WIDTH = (0.25, 0.4, 0.6, 0.9, 1.2)
OSM_NOTICE = "© OpenStreetMap contributors"


def controller_colour(name: str) -> str:
    """The colour of a controller's area (grey for one this table does not know)."""
    return CONTROLLER_COLOURS.get(name, OTHER_CONTROLLER)
