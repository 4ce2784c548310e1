"""The assignment specification as code (docs/assignment.md): what the Vekst server borrows so
there is one Python implementation, and what a re-implementer checks an SDK against.

The offline evaluator of a config document, the sticky stores it keeps units in, the validators
of configs, experiments, targeting, unit ids and attributes, the hashing and bucketing
functions with their constants, and the types and errors they use. A shop's code needs none
of it: it uses `vekst_sdk.Client`.
"""

from vekst_sdk._assignment import Assignment, AssignmentReason, thaw_payload
from vekst_sdk._config import (
    MAX_STICKY_VERSION,
    MAX_WEIGHT,
    validate_config,
    validate_experiment,
)
from vekst_sdk._errors import ConfigError, InvalidInputError, TargetingError, VekstSdkError
from vekst_sdk._evaluator import Evaluator
from vekst_sdk._hashing import (
    HASH_SPACE,
    LAYER_BUCKETS,
    holdout_hash,
    layer_bucket,
    murmur3_32,
    override_digest,
    traffic_hash,
    traffic_threshold,
    variant_hash,
    variant_upper_bounds,
)
from vekst_sdk._holdouts import HoldoutExposure
from vekst_sdk._inputs import validate_attributes, validate_unit_id
from vekst_sdk._sticky import MemoryStickyStore, StickyStore
from vekst_sdk._targeting import validate_targeting
from vekst_sdk.sticky_redis import RedisStickyStore

__all__ = [
    "HASH_SPACE",
    "LAYER_BUCKETS",
    "MAX_STICKY_VERSION",
    "MAX_WEIGHT",
    "Assignment",
    "AssignmentReason",
    "ConfigError",
    "Evaluator",
    "HoldoutExposure",
    "InvalidInputError",
    "MemoryStickyStore",
    "RedisStickyStore",
    "StickyStore",
    "TargetingError",
    "VekstSdkError",
    "holdout_hash",
    "layer_bucket",
    "murmur3_32",
    "override_digest",
    "thaw_payload",
    "traffic_hash",
    "traffic_threshold",
    "validate_attributes",
    "validate_config",
    "validate_experiment",
    "validate_targeting",
    "validate_unit_id",
    "variant_hash",
    "variant_upper_bounds",
]
