"""Per-variant counts pasted from an e-mail tool: the stored rows and the API shapes.

Input contract: the fields of `_Counts` say what each count means, `VariantCounts` checks the
rules between them (stored rows were checked on the way in), and `experiments.pasted_counts`
wants one entry per variant of the experiment, each key exactly once. A missing count leaves
the metrics built on it without a comparison. `as_of` (with a timezone, not in the future) is
when the counts were read; pasting again later adds a newer reading, the history of the send.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated

from pydantic import ConfigDict, Field, field_validator, model_validator
from sqlalchemy import Index
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from experiments.db import UTCDateTime
from experiments.inputs import Slug

Recipients = Annotated[int, Field(ge=0, le=1_000_000_000)]


class _Counts(SQLModel):
    """One variant's counts at one reading, as pasted and as stored."""

    # Attribute docstrings become the fields' descriptions in the OpenAPI.
    model_config = ConfigDict(use_attribute_docstrings=True)  # type: ignore[assignment]

    sent: Recipients
    """Recipients the variant was sent to."""
    opened: Recipients | None = None
    """Recipients who opened it (people, not opens), at most `sent`."""
    clicked: Recipients | None = None
    """Recipients who clicked (people, not clicks), at most `sent`."""
    unsubscribed: Recipients | None = None
    """Recipients who unsubscribed, at most `sent`."""
    revenue: float | None = SQLField(default=None, ge=0)
    """The money the recipients' orders brought."""
    revenue_sum_squares: float | None = SQLField(default=None, ge=0)
    """The sum over recipients of each one's revenue squared, which a comparison of revenue
    needs; at least revenue² / sent, and only with `revenue`."""


class _VariantKey(SQLModel):
    key: Slug
    """The variant the counts are of."""


class VariantCounts(_Counts, _VariantKey):  # the key comes first, as in the answer
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    @field_validator("revenue", "revenue_sum_squares")
    @classmethod
    def _finite(cls, value: float | None) -> float | None:
        if value is not None and not math.isfinite(value):
            raise ValueError("must be a finite number")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> VariantCounts:
        for name in ("opened", "clicked", "unsubscribed"):
            value = getattr(self, name)
            if value is not None and value > self.sent:
                raise ValueError(f"{name} ({value}) cannot exceed sent ({self.sent})")
        if self.revenue_sum_squares is not None:
            if self.revenue is None:
                raise ValueError("revenue_sum_squares needs revenue")
            smallest = self.revenue * self.revenue / self.sent if self.sent else 0.0
            if self.revenue_sum_squares < smallest * (1 - 1e-9):
                raise ValueError(
                    f"revenue_sum_squares must be at least revenue² / sent ({smallest:.2f})"
                )
        return self


class CountsCreate(SQLModel):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    as_of: datetime | None = None
    variants: list[VariantCounts] = Field(min_length=2, max_length=10)


class CountsPublic(SQLModel):
    experiment: str
    as_of: datetime
    variants: list[VariantCounts]


class PastedCount(_Counts, table=True):
    """One variant's counts at one reading (migration 0006)."""

    __tablename__ = "pasted_counts"
    __table_args__ = (Index("ix_pasted_counts_experiment", "experiment", "as_of"),)

    id: int | None = SQLField(default=None, primary_key=True)
    experiment: str = SQLField(max_length=64)
    variant: str = SQLField(max_length=64)
    as_of: datetime = SQLField(sa_type=UTCDateTime)
    created_at: datetime = SQLField(sa_type=UTCDateTime)
