"""OpenFeature provider (install ``vekst-sdk[openfeature]``).

Flag key = experiment key, ``targeting_key`` = unit id, context attributes = targeting
attributes. String flags resolve to the variant key, object flags to the variant's payload.
Reasons: ``SPLIT`` (randomised, exposure logged), ``CACHED`` (sticky: the variant the unit
kept, exposure logged), ``TARGETING_MATCH`` (QA override), ``DEFAULT`` (not targeted, outside
the traffic or held out by a holdout: the control), ``DISABLED`` (stopped: the winner or the
control); unknown flags, missing targeting keys and bad attributes are errors
that return the caller's default value.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from openfeature.evaluation_context import EvaluationContext
from openfeature.exception import ErrorCode
from openfeature.flag_evaluation import FlagResolutionDetails, FlagValueType, Reason
from openfeature.provider import AbstractProvider, Metadata
from openfeature.track import TrackingEventDetails

from vekst_sdk._assignment import Assignment, AssignmentReason, thaw_payload
from vekst_sdk._client import Client
from vekst_sdk._inputs import unit_id_problem

__all__ = ["VekstProvider"]

T = TypeVar("T")

_REASONS: dict[AssignmentReason, Reason] = {
    AssignmentReason.SPLIT: Reason.SPLIT,
    AssignmentReason.STICKY: Reason.CACHED,
    AssignmentReason.HOLDOUT: Reason.DEFAULT,
    AssignmentReason.OVERRIDE: Reason.TARGETING_MATCH,
    AssignmentReason.NOT_TARGETED: Reason.DEFAULT,
    AssignmentReason.NOT_IN_TRAFFIC: Reason.DEFAULT,
    AssignmentReason.WINNER: Reason.DISABLED,
    AssignmentReason.STOPPED: Reason.DISABLED,
}
_ERRORS: dict[AssignmentReason, ErrorCode] = {
    AssignmentReason.UNKNOWN_EXPERIMENT: ErrorCode.FLAG_NOT_FOUND,
    AssignmentReason.NOT_READY: ErrorCode.PROVIDER_NOT_READY,
    AssignmentReason.INVALID_INPUT: ErrorCode.INVALID_CONTEXT,
    AssignmentReason.ERROR: ErrorCode.GENERAL,
}


def _error(default: T, code: ErrorCode, message: str) -> FlagResolutionDetails[T]:
    return FlagResolutionDetails(
        value=default, reason=Reason.ERROR, error_code=code, error_message=message
    )


def _not_string(flag_key: str) -> str:
    return f"{flag_key}: experiments resolve as string (variant) or object (payload) flags"


class VekstProvider(AbstractProvider):
    """Serves Vekst experiments through the OpenFeature API, backed by a :class:`Client`.

    ``initialize`` waits up to ``ready_timeout`` seconds for the client's first config. The
    provider does not close the client on ``shutdown`` unless ``close_client_on_shutdown``.
    """

    def __init__(
        self,
        client: Client,
        *,
        ready_timeout: float = 10.0,
        close_client_on_shutdown: bool = False,
    ) -> None:
        super().__init__()
        self._client = client
        self._ready_timeout = ready_timeout
        self._close_client = close_client_on_shutdown

    def get_metadata(self) -> Metadata:
        return Metadata(name="vekst")

    def initialize(self, evaluation_context: EvaluationContext) -> None:
        del evaluation_context
        self._client.wait_until_ready(self._ready_timeout)

    def shutdown(self) -> None:
        if self._close_client:
            self._client.close()

    def _assign(
        self, flag_key: str, evaluation_context: EvaluationContext | None
    ) -> Assignment | tuple[ErrorCode, str]:
        unit_id = evaluation_context.targeting_key if evaluation_context else None
        if unit_id is None:
            return ErrorCode.TARGETING_KEY_MISSING, "the evaluation context needs a targeting_key"
        problem = unit_id_problem(unit_id)
        if problem is not None:
            return ErrorCode.INVALID_CONTEXT, f"targeting_key {problem}"
        attributes = dict(evaluation_context.attributes) if evaluation_context else {}
        return self._client.assign(flag_key, unit_id, attributes or None)

    def _resolve(
        self,
        flag_key: str,
        default: T,
        evaluation_context: EvaluationContext | None,
        value_of: Callable[[Assignment], Any],
    ) -> FlagResolutionDetails[T]:
        outcome = self._assign(flag_key, evaluation_context)
        if isinstance(outcome, tuple):
            return _error(default, *outcome)
        code = _ERRORS.get(outcome.reason)
        if code is not None or outcome.variant is None:
            return _error(default, code or ErrorCode.GENERAL, f"{flag_key}: {outcome.reason}")
        value = value_of(outcome)
        if value is None:
            return _error(
                default, ErrorCode.TYPE_MISMATCH, f"{flag_key}: the payload is not an object"
            )
        return FlagResolutionDetails(
            value=value,
            reason=_REASONS[outcome.reason],
            variant=outcome.variant,
            flag_metadata={"in_experiment": outcome.in_experiment},
        )

    def resolve_string_details(
        self,
        flag_key: str,
        default_value: str,
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[str]:
        return self._resolve(flag_key, default_value, evaluation_context, lambda a: a.variant)

    def resolve_object_details(
        self,
        flag_key: str,
        default_value: Sequence[FlagValueType] | Mapping[str, FlagValueType],
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[Sequence[FlagValueType] | Mapping[str, FlagValueType]]:
        def payload(assignment: Assignment) -> Any:
            value = thaw_payload(assignment.payload)
            return value if isinstance(value, dict | list) else None

        return self._resolve(flag_key, default_value, evaluation_context, payload)

    def _not_a_vekst_type(
        self, flag_key: str, default_value: T, *_context: object, **_named_context: object
    ) -> FlagResolutionDetails[T]:
        """Whatever the evaluation context: the flag's type is one Vekst never serves."""
        return _error(default_value, ErrorCode.TYPE_MISMATCH, _not_string(flag_key))

    # A Vekst flag is a string (the variant key) or an object (the payload), never these.
    resolve_boolean_details = _not_a_vekst_type
    resolve_integer_details = _not_a_vekst_type
    resolve_float_details = _not_a_vekst_type

    def track(
        self,
        tracking_event_name: str,
        evaluation_context: EvaluationContext | None = None,
        tracking_event_details: TrackingEventDetails | None = None,
    ) -> None:
        """Forward to :meth:`Client.track` with the context's ``targeting_key`` as unit id."""
        unit_id = evaluation_context.targeting_key if evaluation_context else None
        details = tracking_event_details or TrackingEventDetails()
        self._client.track(
            tracking_event_name,
            unit_id,  # type: ignore[arg-type]  # Client.track logs and drops a missing id
            details.value,
            details.attributes or None,
        )
