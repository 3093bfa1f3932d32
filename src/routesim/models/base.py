"""The base of every file model."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    """Base of every file model: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid")
