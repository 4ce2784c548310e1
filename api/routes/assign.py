"""`POST /v1/assign` (sdk key): which variant does this unit get, computed on the server with the
same evaluator as the SDK. Meant for backends that cannot embed an SDK."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from api.deps import (
    BEARER_SECURITY,
    SDK_SCOPES,
    AuthFirstRoute,
    authorize,
    json_body_doc,
    parse_body,
)
from api.observability import Telemetry
from api.observability.event_counts import count_events
from api.problems import PROTECTED, problem_responses
from api.rate_limits import RateLimiter
from api.responses import FieldErrorOut
from experiments.assignment import (
    EvaluatorCache,
    assign_all,
    assignment_json,
    exposed_keys,
    exposure_batch,
    holdout_exposures,
)
from experiments.events import EventPipeline, parse_batch
from experiments.events.entries import describe_error
from experiments.events.isolation import OUTAGES
from experiments.inputs import SafeText, Slug, check_json, path_rule_error
from experiments.models.api_key import EventSource
from vekst_sdk.spec import InvalidInputError as SdkInputError
from vekst_sdk.spec import validate_attributes, validate_unit_id

router = APIRouter(
    route_class=AuthFirstRoute,
    responses=problem_responses(*PROTECTED, 429),
    prefix="/v1",
    tags=["assignment"],
)


class AssignRequest(BaseModel):
    """unit_id: 1-256 characters, not only whitespace, no NUL, no lone surrogates; attributes:
    a flat object of at most 100 strings (at most 1024 characters), finite numbers and
    booleans; experiments: at most 200 keys to assign (default: every served one)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "unit_id": "visitor-8731",
                    "attributes": {"country": "NO", "device": "mobile", "cart_value": 649},
                    "experiments": ["checkout-onepage"],
                    "expose": True,
                }
            ]
        },
    )

    unit_id: SafeText
    attributes: Annotated[dict[str, Any], AfterValidator(check_json)] | None = None
    experiments: Annotated[list[Slug], Field(max_length=200)] | None = None
    expose: bool = False

    @field_validator("unit_id")
    @classmethod
    def _unit_id_rules(cls, value: str) -> str:
        try:
            validate_unit_id(value)
        except SdkInputError as exc:
            raise ValueError(exc.message) from exc
        return value

    @field_validator("attributes")
    @classmethod
    def _attribute_rules(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None:
            try:
                validate_attributes(value)
            except SdkInputError as exc:
                raise path_rule_error(exc.path.removeprefix("attributes"), exc.message) from exc
        return value


class AssignmentOut(BaseModel):
    variant: str | None
    payload: Any
    in_experiment: bool


class ExposureNotRecorded(BaseModel):
    experiment: str
    errors: list[FieldErrorOut]


class ExposureReport(BaseModel):
    """With `expose: true`: exposures stored (or already stored), and those that were not."""

    recorded: int
    not_recorded: list[ExposureNotRecorded]


class AssignResponse(BaseModel):
    unit_id: str
    assignments: dict[str, AssignmentOut]
    exposure: ExposureReport | None = None


@router.post(
    "/assign",
    response_model=AssignResponse,
    openapi_extra={**json_body_doc(AssignRequest), "security": BEARER_SECURITY},
)
async def assign(request: Request) -> JSONResponse:
    """Assign one unit; `expose: true` also records its exposures, each with the attributes
    its experiment names as dimensions."""
    # Authorise before reading the body, and without a dependency: this is a hot path.
    key = await authorize(request, *SDK_SCOPES)
    limiter: RateLimiter = request.app.state.rate_limiter
    await limiter.check("assign", key, request.scope)
    body = parse_body(AssignRequest, await request.body())
    cache: EvaluatorCache = request.app.state.evaluator_cache
    evaluator = cache.fresh()
    if evaluator is None:
        evaluator = await run_in_threadpool(cache.load)
    if body.experiments and not evaluator.experiment_keys.issuperset(body.experiments):
        # Possibly started through another worker since the config was cached: look again.
        evaluator = await run_in_threadpool(cache.reload, evaluator)
    if cache.store_blocks:  # sticky experiments read and write a shared (Redis) store
        assignments = await run_in_threadpool(
            assign_all, evaluator, body.unit_id, body.attributes, body.experiments
        )
    else:
        assignments = assign_all(evaluator, body.unit_id, body.attributes, body.experiments)
    answer = AssignResponse(
        unit_id=body.unit_id,
        assignments={
            experiment: AssignmentOut.model_validate(assignment_json(assignment))
            for experiment, assignment in assignments.items()
        },
    )
    if body.expose:
        held = holdout_exposures(evaluator, body.unit_id, assignments)
        batch = exposure_batch(body.unit_id, assignments, body.attributes, held)
        answer.exposure = await _expose(request, batch, exposed_keys(assignments, held), key.source)
    # Serialized by the declared model; `exposure` is left out unless it was asked for.
    return JSONResponse(answer.model_dump(mode="json", exclude_unset=True))


async def _expose(
    request: Request, batch: bytes | None, sent: list[str], source: EventSource
) -> ExposureReport:
    """Record the unit's exposures (`batch`, of the experiments and holdouts `sent`, with a key
    of scope `source`; the attributes they keep are the experiment's dimensions); say which
    were not recorded (and why) rather than hide it."""
    if batch is None:
        return ExposureReport(recorded=0, not_recorded=[])
    pipeline: EventPipeline = request.app.state.events
    try:
        result = await pipeline.intake.ingest(batch, source=source)
    except OUTAGES as error:  # the assignment stands; the caller learns nothing was recorded
        reason = FieldErrorOut(
            field="event", rule=f"could not be stored now: {describe_error(error)}"
        )
        return ExposureReport(
            recorded=0,
            not_recorded=[ExposureNotRecorded(experiment=key, errors=[reason]) for key in sent],
        )
    telemetry: Telemetry = request.app.state.telemetry
    count_events(telemetry, parse_batch(batch), result)
    not_recorded = [
        ExposureNotRecorded(
            experiment=sent[rejection.index],
            errors=[FieldErrorOut(field=e.field, rule=e.rule) for e in rejection.errors],
        )
        for rejection in result.rejected
    ]
    return ExposureReport(recorded=result.accepted + result.duplicates, not_recorded=not_recorded)
