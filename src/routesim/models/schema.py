"""JSON Schemas exported from the file models: the published contracts of the files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from routesim._util.files import atomic_path
from routesim.errors import RoutesimError
from routesim.models.events import EventFile
from routesim.models.scenario import Scenario


def event_schema() -> dict[str, Any]:
    """JSON Schema of an event file (:class:`routesim.models.EventFile`)."""
    return EventFile.model_json_schema()


def scenario_schema() -> dict[str, Any]:
    """JSON Schema of a scenario file (:class:`routesim.models.Scenario`)."""
    return Scenario.model_json_schema()


def write_schemas(directory: str | Path) -> list[Path]:
    """Write ``events.schema.json`` and ``scenario.schema.json`` into ``directory`` (atomically).

    Raises
    ------
    RoutesimError
        When the folder cannot be created or written.
    """
    out = Path(directory)
    written = []
    try:
        for name, schema in (("events", event_schema()), ("scenario", scenario_schema())):
            path = out / f"{name}.schema.json"
            with atomic_path(path) as tmp:
                tmp.write_text(json.dumps(schema, indent=2) + "\n", encoding="utf-8")
            written.append(path)
    except OSError as exc:
        raise RoutesimError(f"{out}: cannot write schemas: {exc.strerror or exc}") from None
    return written
