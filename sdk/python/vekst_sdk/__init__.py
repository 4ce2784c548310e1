"""Vekst SDK: deterministic local assignment of units to experiment variants, plus events.

The client surface is exactly ``__all__``; everything in ``_modules`` is private. The
specification's building blocks (the offline evaluator, validators, hashing), which the server
borrows, are in :mod:`vekst_sdk.spec`; the OpenFeature provider is in
:mod:`vekst_sdk.openfeature` (extra ``vekst-sdk[openfeature]``), and the Redis sticky store in
:mod:`vekst_sdk.sticky_redis` (extra ``vekst-sdk[redis]``).
"""

from vekst_sdk._assignment import Assignment, AssignmentReason, thaw_payload
from vekst_sdk._client import Client
from vekst_sdk._errors import ConfigError, InvalidInputError, TargetingError, VekstSdkError
from vekst_sdk._options import ClientOptions
from vekst_sdk._sticky import MemoryStickyStore, StickyStore

__all__ = [
    "Assignment",
    "AssignmentReason",
    "Client",
    "ClientOptions",
    "ConfigError",
    "InvalidInputError",
    "MemoryStickyStore",
    "StickyStore",
    "TargetingError",
    "VekstSdkError",
    "thaw_payload",
]
