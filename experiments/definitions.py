"""Creating, reading and editing experiment definitions, with the rules that guard them."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy import select as select_columns
from sqlmodel import Session, col, select

from experiments import servable
from experiments.audit import COMMAND_LINE, Actor, record_change
from experiments.bandit_rules import check_bandit, equal_weights, settings_for
from experiments.errors import (
    ConflictError,
    FieldConflictError,
    InvalidInputError,
    NotFoundError,
)
from experiments.metrics import metric_catalog
from experiments.models.audit import AuditEntity
from experiments.models.experiment import (
    Experiment,
    ExperimentCreate,
    ExperimentStatus,
    ExperimentUpdate,
    MetricSelection,
    Variant,
)
from experiments.models.experiment_views import (
    ExperimentListed,
    ExperimentPage,
    ExperimentPublic,
    ListedPage,
)
from experiments.models.holdout import Holdout
from experiments.targeting import validate_targeting
from experiments.templates import TEMPLATES

DEFAULT_UNIT_TYPE = "visitor"
NULLABLE = ("targeting", "layer")  # null in a PATCH removes the targeting / the layer


def known_metric_keys(session: Session) -> set[str]:
    """Keys of the built-in metrics and of the custom metrics stored in `session`'s database."""
    return set(metric_catalog(session))


def create_experiment(
    session: Session,
    data: ExperimentCreate,
    *,
    actor: Actor = COMMAND_LINE,
) -> Experiment:
    """Store a new draft experiment; a template fills unit type, metrics and dimensions the
    request omits.

    `actor` is the key recorded in the audit log (default: a local tool without a key).
    """
    unit_type = data.unit_type
    metrics = data.metrics
    dimensions = data.dimensions
    if data.template is not None:
        defaults = TEMPLATES[data.template]
        unit_type = unit_type or defaults.unit_type
        dimensions = list(defaults.dimensions) if dimensions is None else dimensions
        metrics = metrics or MetricSelection(
            primary=defaults.primary,
            secondary=list(defaults.secondary),
            guardrails=list(defaults.guardrails),
            cap_percentiles=dict(defaults.cap_percentiles),
        )
    if metrics is None:
        raise InvalidInputError("metrics", "is required unless a template is given")
    _check_variants(data.variants)
    _check_metrics(session, metrics)
    metrics.check_new_caps()
    primary = metric_catalog(session)[metrics.primary]
    check_bandit(data.type, data.bandit, primary, len(data.variants))
    _check_overrides(data.overrides, data.variants)
    if data.targeting is not None:
        validate_targeting(data.targeting)
    servable.check_created(data, unit_type or DEFAULT_UNIT_TYPE)
    if session.exec(select(Experiment.id).where(Experiment.key == data.key)).first() is not None:
        raise ConflictError(
            f"an experiment with key '{data.key}' exists already; choose another key"
        )
    if session.exec(select(Holdout.id).where(Holdout.key == data.key)).first() is not None:
        raise FieldConflictError(
            "key",
            f"'{data.key}' names a holdout; holdouts and experiments share one namespace of "
            "keys, so choose another key",
        )
    now = datetime.now(UTC)
    variants = [variant.model_dump(mode="json") for variant in data.variants]
    experiment = Experiment(
        key=data.key,
        salt=secrets.token_hex(8),
        name=data.name,
        hypothesis=data.hypothesis,
        unit_type=unit_type or DEFAULT_UNIT_TYPE,
        # A bandit explores at equal weights: the weights are its to set.
        variants=equal_weights(variants) if data.type == "bandit" else variants,
        traffic=_traffic(data),
        targeting=data.targeting,
        layer=data.layer,
        overrides=dict(data.overrides),
        design=data.design,
        metrics=metrics,
        dimensions=dimensions or [],
        type=data.type,
        bandit=settings_for(data.type, data.bandit, len(variants)),
        # A bandit moves its weights, so by default it keeps each unit's first arm.
        sticky=data.type == "bandit" if data.sticky is None else data.sticky,
        sticky_version=data.sticky_version,
        created_at=now,
        updated_at=now,
    )
    session.add(experiment)
    session.flush()
    record_change(
        session,
        actor,
        AuditEntity.EXPERIMENT,
        experiment.key,
        "created",
        None,
        audit_state(experiment),
    )
    return experiment


def _traffic(data: ExperimentCreate) -> float:
    """Test-then-send puts only the test share of the list into the variants (the rest waits)."""
    test_share = data.design.test_share
    if test_share is None or data.traffic == test_share:
        return data.traffic
    if data.traffic != 1.0:
        raise InvalidInputError(
            "traffic",
            f"must equal design.test_share ({test_share}) in a test-then-send experiment, "
            "or be left out",
        )
    return test_share


def get_experiment(session: Session, key: str) -> Experiment:
    experiment = session.exec(select(Experiment).where(Experiment.key == key)).first()
    if experiment is None:
        raise NotFoundError(f"no experiment with key '{key}'")
    return experiment


def list_experiments(
    session: Session, limit: int, offset: int, status: ExperimentStatus | None = None
) -> ExperimentPage:
    query = select(Experiment)
    count = select(func.count()).select_from(Experiment)
    if status is not None:
        query = query.where(Experiment.status == status.value)
        count = count.where(Experiment.status == status.value)
    rows = session.exec(query.order_by(Experiment.id).offset(offset).limit(limit))  # type: ignore[arg-type]
    return ExperimentPage(
        items=[to_public(row) for row in rows],
        total=session.exec(count).one(),
        limit=limit,
        offset=offset,
    )


def list_for_overview(
    session: Session, limit: int, status: ExperimentStatus | None = None
) -> ListedPage:
    """The first `limit` experiments as a list shows them: five columns read, not whole
    definitions, each of which `to_public` validates field by field (docs/benchmarks.md: the
    list page of 100 experiments)."""
    query = select_columns(
        col(Experiment.key),
        col(Experiment.name),
        col(Experiment.status),
        col(Experiment.started_at),
        col(Experiment.metrics),
    )
    count = select(func.count()).select_from(Experiment)
    if status is not None:
        query = query.where(col(Experiment.status) == status.value)
        count = count.where(Experiment.status == status.value)
    # Rows of columns, not of the model: through the connection, which types them as such.
    rows = session.connection().execute(query.order_by(col(Experiment.id)).limit(limit))
    items = [
        ExperimentListed(
            key=key,
            name=name,
            status=ExperimentStatus(state),
            primary=metrics.primary,
            started_at=started_at,
        )
        for key, name, state, started_at, metrics in rows
    ]
    return ListedPage(items=items, total=session.exec(count).one())


def check_patch(session: Session, experiment: Experiment, patch: ExperimentUpdate) -> None:
    """Raise InvalidInputError naming the first field of `patch` that would leave `experiment`
    an invalid definition. What the experiment's status allows is `lifecycle`'s question."""
    _check_nulls(patch)
    variants = patch.variants if patch.variants is not None else _variants_of(experiment)
    if patch.variants is not None:
        _check_variants(patch.variants)
    if patch.metrics is not None:
        _check_metrics(session, patch.metrics)
        patch.metrics.check_new_caps(experiment.metrics.cap_percentiles)
    if patch.overrides is not None or patch.variants is not None:
        overrides = patch.overrides if patch.overrides is not None else experiment.overrides
        _check_overrides(overrides, variants)
    if patch.targeting is not None:
        validate_targeting(patch.targeting)
    _check_patched_bandit(session, experiment, patch, len(variants))
    servable.check_patched(experiment, patch)


def _check_patched_bandit(
    session: Session, experiment: Experiment, patch: ExperimentUpdate, arms: int
) -> None:
    """`check_bandit` on the definition `patch` leaves (a bandit keeps its stored settings
    unless new ones are sent)."""
    kind = patch.type or experiment.type
    given = patch.bandit
    if given is None and kind == "bandit":
        given = experiment.bandit
    primary = (patch.metrics or experiment.metrics).primary
    check_bandit(kind, given, metric_catalog(session)[primary], arms)


MODEL_COLUMNS = frozenset({"design", "metrics", "bandit"})


def write_patch(session: Session, experiment: Experiment, patch: ExperimentUpdate) -> None:
    """Store the fields sent in `patch` (checked by `check_patch`) on `experiment`."""
    # `include`, not `exclude_unset`: a design or metrics object sent is stored whole, with the
    # defaults of the fields it left out.
    stored = patch.model_dump(mode="json", include=patch.model_fields_set)
    for name, value in stored.items():
        # The design and metrics columns take their models (`ModelJSON`), the rest plain JSON.
        setattr(experiment, name, getattr(patch, name) if name in MODEL_COLUMNS else value)
    experiment.bandit = settings_for(experiment.type, experiment.bandit, len(experiment.variants))
    if experiment.type == "bandit" and experiment.status == ExperimentStatus.DRAFT:
        experiment.variants = equal_weights(experiment.variants)
    experiment.updated_at = datetime.now(UTC)
    session.add(experiment)
    session.flush()


def audit_state(experiment: Experiment) -> dict[str, Any]:
    """The experiment as the audit log compares it: its public fields, less the timestamps
    every change moves."""
    return to_public(experiment).model_dump(mode="json", exclude={"created_at", "updated_at"})


def to_public(experiment: Experiment) -> ExperimentPublic:
    """The experiment as the API shows it (its stored JSON read back into the typed shapes)."""
    return ExperimentPublic.model_validate(experiment)


def _variants_of(experiment: Experiment) -> list[Variant]:
    return [Variant.model_validate(variant) for variant in experiment.variants]


def _check_nulls(patch: ExperimentUpdate) -> None:
    for name, value in patch.model_dump(exclude_unset=True).items():
        if value is None and name not in NULLABLE:
            raise InvalidInputError(name, "cannot be null")


def _check_variants(variants: list[Variant]) -> None:
    seen: set[str] = set()
    for index, variant in enumerate(variants):
        if variant.key in seen:
            raise InvalidInputError(f"variants[{index}].key", f"'{variant.key}' is used twice")
        seen.add(variant.key)


def _check_metrics(session: Session, metrics: MetricSelection) -> None:
    catalog = metric_catalog(session)
    known = set(catalog)
    fields = [("metrics.primary", metrics.primary)]
    fields += [(f"metrics.secondary[{i}]", key) for i, key in enumerate(metrics.secondary)]
    fields += [(f"metrics.guardrails[{i}]", key) for i, key in enumerate(metrics.guardrails)]
    for field, key in fields:
        if key not in known:
            raise InvalidInputError(
                field, f"'{key}' is not a known metric; known: {', '.join(sorted(known))}"
            )
    if catalog[metrics.primary].kind == "quantile":
        raise InvalidInputError(
            "metrics.primary",
            f"'{metrics.primary}' is a quantile metric: it may be a secondary metric or a "
            "guardrail, not the primary (the plan and the decision read a mean or a rate)",
        )
    for key in metrics.cap_percentiles:
        if key in catalog and catalog[key].kind == "quantile":
            raise InvalidInputError(
                f"metrics.cap_percentiles.{key}",
                "a quantile metric needs no cap: a quantile is not moved by extreme values",
            )


def _check_overrides(overrides: dict[str, str], variants: list[Variant]) -> None:
    keys = {variant.key for variant in variants}
    for unit_id, variant_key in overrides.items():
        if variant_key not in keys:
            raise InvalidInputError(
                f"overrides.{unit_id}", f"names variant '{variant_key}', which is not a variant"
            )
