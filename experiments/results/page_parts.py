"""The base of the results page's parts: frozen pydantic models whose attribute docstrings are
the OpenAPI's descriptions, and the way they write a moment."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, PlainSerializer, WithJsonSchema

IsoDatetime = Annotated[
    datetime,
    PlainSerializer(datetime.isoformat, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}, mode="serialization"),
]
"""A moment served as `datetime.isoformat` writes it ("2026-03-01T12:00:00+00:00")."""


class PagePart(BaseModel):
    """A part of the results page: frozen, and its attribute docstrings are the OpenAPI's
    descriptions. A field no longer known is ignored when an old look is read."""

    model_config = ConfigDict(
        extra="ignore", frozen=True, use_attribute_docstrings=True, validate_by_name=True
    )

    def as_json(self) -> dict[str, Any]:
        """The part's JSON, as a look stores it and the routes serve it (a field never set
        stays out)."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)
