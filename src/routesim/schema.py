"""JSON Schemas exported from the pydantic models: the published file contracts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def event_schema() -> dict[str, Any]:
    """JSON Schema of an event file (:class:`routesim.events.EventFile`)."""
    from routesim.events import EventFile

    return EventFile.model_json_schema()


def scenario_schema() -> dict[str, Any]:
    """JSON Schema of a scenario file (:class:`routesim.scenario.Scenario`)."""
    from routesim.scenario import Scenario

    return Scenario.model_json_schema()


def write_schemas(directory: str | Path) -> list[Path]:
    """Write ``events.schema.json`` and ``scenario.schema.json`` into ``directory``."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in (("events", event_schema()), ("scenario", scenario_schema())):
        path = out / f"{name}.schema.json"
        path.write_text(json.dumps(schema, indent=2) + "\n", encoding="utf-8")
        written.append(path)
    return written
