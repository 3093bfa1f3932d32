"""Dated events: what they do to edges (effects), reading them, states by date, epochs, timelines.

The names below are imported on first use, so that loading a network (which
binds the event library and its mask cache, :mod:`routesim.events.maskcache`)
imports none of the event machinery an undated route does not run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from routesim._util.lazy import lazy_exports

if TYPE_CHECKING:
    from routesim.events.effects import Effect, effect_names, get_effect, register_effect, unregister_effect
    from routesim.events.eventset import Epoch, EventSet, as_event_set, load_events
    from routesim.events.files import EventRecord, builtin_library_path, read_event_files
    from routesim.events.maskcache import MaskCache, bind_mask_cache
    from routesim.events.timeline import TIMELINE_COLUMNS, timeline

_LAZY = {
    "Effect": "routesim.events.effects",
    "effect_names": "routesim.events.effects",
    "get_effect": "routesim.events.effects",
    "register_effect": "routesim.events.effects",
    "unregister_effect": "routesim.events.effects",
    "Epoch": "routesim.events.eventset",
    "EventSet": "routesim.events.eventset",
    "as_event_set": "routesim.events.eventset",
    "load_events": "routesim.events.eventset",
    "EventRecord": "routesim.events.files",
    "builtin_library_path": "routesim.events.files",
    "read_event_files": "routesim.events.files",
    "MaskCache": "routesim.events.maskcache",
    "bind_mask_cache": "routesim.events.maskcache",
    "TIMELINE_COLUMNS": "routesim.events.timeline",
    "timeline": "routesim.events.timeline",
}

__all__ = [
    "TIMELINE_COLUMNS",
    "Effect",
    "Epoch",
    "EventRecord",
    "EventSet",
    "MaskCache",
    "as_event_set",
    "bind_mask_cache",
    "builtin_library_path",
    "effect_names",
    "get_effect",
    "load_events",
    "read_event_files",
    "register_effect",
    "timeline",
    "unregister_effect",
]


__getattr__, __dir__ = lazy_exports("routesim.events", _LAZY, globals(), __all__)
