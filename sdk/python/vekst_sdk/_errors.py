"""The SDK's exception hierarchy.

Everything the SDK raises on purpose derives from :class:`VekstSdkError` and carries a ``path``
naming the offending field (``targeting.all[1].value``, ``experiments[0].variants``, ``unit_id``)
and a ``message`` stating the rule that was broken. ``Client.assign`` never lets these escape;
the validators raise them so that the server can turn them into a 422 response.
"""

from __future__ import annotations


class VekstSdkError(Exception):
    """Base class: ``path`` names the bad field, ``message`` states the broken rule."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


class ConfigError(VekstSdkError):
    """The config document (or one experiment in it) breaks the contract."""


class TargetingError(ConfigError):
    """A targeting condition is malformed (unknown key or operator, wrong value type)."""


class InvalidInputError(VekstSdkError):
    """A unit id, attribute map or tracked event breaks the input rules."""
