"""Vekst SDK: deterministic local assignment of units to experiment variants, plus events.

The client surface is exactly ``__all__``; everything in ``_modules`` is private. The
specification's building blocks (the offline evaluator, validators, hashing), which the server
borrows, are in :mod:`vekst_sdk.spec`; the OpenFeature provider is in
:mod:`vekst_sdk.openfeature` (extra ``vekst-sdk[openfeature]``).
"""

from vekst_sdk._assignment import Assignment, AssignmentReason, thaw_payload
from vekst_sdk._client import Client
from vekst_sdk._errors import ConfigError, InvalidInputError, TargetingError, VekstSdkError
from vekst_sdk._options import ClientOptions

__all__ = [
    "Assignment",
    "AssignmentReason",
    "Client",
    "ClientOptions",
    "ConfigError",
    "InvalidInputError",
    "TargetingError",
    "VekstSdkError",
    "thaw_payload",
]
