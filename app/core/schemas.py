"""BaseDTO: the base of every request body; unknown fields are rejected."""

from pydantic import BaseModel, ConfigDict


class BaseDTO(BaseModel):
    """Request/response DTO base with `extra="forbid"`."""

    model_config = ConfigDict(extra="forbid")
