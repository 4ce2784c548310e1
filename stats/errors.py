"""The single exception raised by ``stats`` for invalid input."""

from __future__ import annotations


class StatsInputError(ValueError):
    """Input that no analysis can be computed from.

    ``field`` is the path of the offending input (``variants[1].conversions``,
    ``alpha``, ``prior.sd``) so a caller can point at it; the message states the
    rule that was broken. The HTTP layer maps this error to a 422 response.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
