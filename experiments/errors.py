"""The domain's exception hierarchy. `api/` maps each class to one HTTP status."""

from __future__ import annotations


class VekstError(Exception):
    """Base of every error the domain raises on purpose; `detail` is shown to the caller."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFoundError(VekstError):
    """The named resource does not exist."""


class ConflictError(VekstError):
    """The request is valid but the resource's current state refuses it (e.g. a lifecycle rule)."""


class FieldConflictError(ConflictError):
    """A field's value conflicts with stored data (a key taken); `field` is its path."""

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field} {rule}")
        self.field = field
        self.rule = rule


class InvalidInputError(VekstError):
    """A field breaks a rule; `field` is its path, such as `variants[1].weight`."""

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field} {rule}")
        self.field = field
        self.rule = rule


class NotConfiguredError(VekstError):
    """The server lacks a setting this request needs; `detail` names it (the operator's fix)."""


class AuthenticationError(VekstError):
    """No API key, or one that is unknown or revoked."""


class PermissionDeniedError(VekstError):
    """The API key is valid but its scope does not allow the request."""
