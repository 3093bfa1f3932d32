"""Dated events: what they do to edges (effects), reading them, states by date, epochs, timelines."""

from routesim.events.effects import Effect, effect_names, get_effect, register_effect, unregister_effect
from routesim.events.eventset import Epoch, EventSet, as_event_set, load_events
from routesim.events.files import EventRecord, builtin_library_path, read_event_files
from routesim.events.timeline import TIMELINE_COLUMNS, timeline

__all__ = [
    "TIMELINE_COLUMNS",
    "Effect",
    "Epoch",
    "EventRecord",
    "EventSet",
    "as_event_set",
    "builtin_library_path",
    "effect_names",
    "get_effect",
    "load_events",
    "read_event_files",
    "register_effect",
    "timeline",
    "unregister_effect",
]
