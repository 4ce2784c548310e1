"""Counts pasted from an e-mail tool: attaching them to a newsletter experiment, reading them back.

A newsletter sent by an e-mail tool never produces per-subscriber events here; the tool reports
per-variant totals (sent, opened, clicked, unsubscribed, revenue). Attached to the experiment,
each paste is one reading at its `as_of`; the results then use the newest reading up to their
end, so they get the same verdict, guardrails and history as event-fed experiments.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session, col, select

from experiments.audit import COMMAND_LINE, Actor, record_change
from experiments.definitions import get_experiment
from experiments.errors import ConflictError, InvalidInputError
from experiments.inputs import require_timezone
from experiments.metrics import metric_catalog
from experiments.models.audit import AuditEntity
from experiments.models.experiment import ExperimentStatus
from experiments.models.pasted_counts import CountsCreate, CountsPublic, PastedCount


def attach_counts(
    session: Session,
    key: str,
    data: CountsCreate,
    now: datetime | None = None,
    *,
    actor: Actor = COMMAND_LINE,
) -> CountsPublic:
    """Store one reading of per-variant counts for experiment `key`, and record it on the audit
    log (`counts` `created` by `actor`, the figures pasted as the after-state).

    Raises ConflictError for a draft (the send has not started) and InvalidInputError naming
    the field when the variants do not match the experiment's, the primary metric cannot be
    counted from pasted totals, or `as_of` lacks a timezone or lies in the future.
    """
    moment = now or datetime.now(UTC)
    experiment = get_experiment(session, key)
    if experiment.status == ExperimentStatus.DRAFT or experiment.started_at is None:
        raise ConflictError(
            f"experiment '{key}' has not started; start it (POST /v1/experiments/{key}/start) "
            "when the newsletter is sent, then paste the counts"
        )
    primary = experiment.metrics.primary
    catalog = metric_catalog(session)
    definition = catalog.get(primary)
    if definition is None or definition.pasted_field is None:
        # The metrics with a pasted field (`MetricDefinition.pasted_field`) are the ones served.
        served = sorted(metric.key for metric in catalog.values() if metric.pasted_field)
        raise InvalidInputError(
            "variants",
            f"cannot feed experiment '{key}': its primary metric {primary} is not counted by an "
            "e-mail tool; pasted counts serve " + ", ".join(served),
        )
    as_of = _as_of(data.as_of, moment, experiment.started_at)
    expected = experiment.variant_keys()
    given = [variant.key for variant in data.variants]
    for index, variant_key in enumerate(given):
        if variant_key not in expected:
            raise InvalidInputError(
                f"variants[{index}].key",
                f"'{variant_key}' is not a variant of '{key}'; its variants are "
                + ", ".join(expected),
            )
        if given.index(variant_key) != index:
            raise InvalidInputError(f"variants[{index}].key", f"'{variant_key}' is given twice")
    missing = [variant for variant in expected if variant not in given]
    if missing:
        raise InvalidInputError(
            "variants", "must give every variant; missing: " + ", ".join(missing)
        )
    for variant in data.variants:
        session.add(
            PastedCount.model_validate(
                variant,
                update={
                    "experiment": key,
                    "variant": variant.key,
                    "as_of": as_of,
                    "created_at": moment,
                },
            )
        )
    session.flush()
    ordered = sorted(data.variants, key=lambda variant: expected.index(variant.key))
    figures = {
        variant.key: variant.model_dump(exclude={"key"}, exclude_none=True) for variant in ordered
    }
    after = {"as_of": as_of.isoformat(), "variants": figures}
    record_change(session, actor, AuditEntity.COUNTS, key, "created", None, after)
    return CountsPublic(experiment=key, as_of=as_of, variants=ordered)


def latest_counts(session: Session, key: str, end: datetime) -> dict[str, PastedCount] | None:
    """The newest reading at or before `end`, by variant; None when nothing was pasted by then."""
    newest = session.exec(
        select(PastedCount.as_of)
        .where(PastedCount.experiment == key, PastedCount.as_of <= end)
        .order_by(col(PastedCount.as_of).desc(), col(PastedCount.id).desc())
        .limit(1)
    ).first()
    if newest is None:
        return None
    rows = session.exec(
        select(PastedCount)
        .where(PastedCount.experiment == key, PastedCount.as_of == newest)
        .order_by(col(PastedCount.id))
    ).all()
    # A later paste with the same as_of replaces the earlier one, variant by variant.
    return {row.variant: row for row in rows}


def _as_of(given: datetime | None, now: datetime, started_at: datetime) -> datetime:
    if given is None:
        return now
    require_timezone("as_of", given)
    if given > now:
        raise InvalidInputError("as_of", "cannot lie in the future")
    if given < started_at:
        raise InvalidInputError("as_of", "cannot lie before the experiment's start (the send)")
    return given
