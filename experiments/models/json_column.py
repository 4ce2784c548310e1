"""A JSON column that holds one pydantic model: written as its JSON dump, read back as the model.

The stored JSON is what a plain JSON column holding `model.model_dump(mode="json")` stores, so
rows written before the column was typed load unchanged, and no migration is needed.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import JSON, Dialect
from sqlalchemy.types import TypeDecorator

Model = TypeVar("Model", bound=BaseModel)


class ModelJSON(TypeDecorator[Model]):
    """`model` stored as JSON; callers read and assign the model itself, never a dict."""

    impl = JSON
    cache_ok = True

    def __init__(self, model: type[Model]) -> None:
        super().__init__()
        self.model = model

    def process_bind_param(self, value: Model | None, _dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, self.model):
            raise TypeError(f"expected a {self.model.__name__}, got {type(value).__name__}")
        return value.model_dump(mode="json")

    def process_result_value(self, value: Any, _dialect: Dialect) -> Model | None:
        return None if value is None else self.model.model_validate(value)
