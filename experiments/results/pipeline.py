"""The pipeline of a look: sums → readings → running readings → verdict → page.

Each stage is one call on typed values; `results/__init__.py` maps the modules behind each.
`snapshots` numbers, stores and serves the looks made here; `render` is the edge where the
typed results become the page (`page.ResultsPage`) that is stored, served and read back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session

from experiments.definitions import get_experiment
from experiments.models.experiment import Design
from experiments.results.look_inputs import LookInputs, end_of_analysis, look_inputs
from experiments.results.page import ResultsPage
from experiments.results.readings.bandit_arms import bandit_reading
from experiments.results.readings.families import with_families
from experiments.results.readings.look_readings import analyse, srm_of
from experiments.results.readings.running import PreviousReadings, running_readings, stored_readings
from experiments.results.readings.segment_tests import (
    EarlierFindings,
    segment_findings,
    stored_findings,
)
from experiments.results.render import results_page
from experiments.results.sums.look_basis import FULL_LOOK_EVERY
from experiments.results.sums.look_sums import read_sums, sums_of_new_looks
from experiments.results.sums.sum_sources import ExperimentSums
from experiments.results.types import ExperimentResults
from experiments.results.verdict.look_verdict import decide_look, plan_progress
from experiments.results.verdict.replan import (
    design_as_of,
    plan_facts,
    plan_with_cuped,
    replanned,
)
from experiments.results.verdict.stop_outcome import stop_outcome_of, summary_after_stop
from experiments.results.words.bandit_words import (
    bandit_decision,
    bandit_summary,
    bandit_warnings,
    gain_words,
)
from experiments.results.words.look_words import look_summary, look_warnings
from experiments.results.words.plan_words import with_sentence
from experiments.results.words.summary_sentence import SummaryTerms
from stats import SrmResult


@dataclass(frozen=True, slots=True)
class Look:
    """A look made, not yet numbered nor stored: its sums, its typed results and its page."""

    sums: ExperimentSums
    results: ExperimentResults
    page: ResultsPage


def make_look(
    inputs: LookInputs,
    sums: ExperimentSums,
    end: datetime,
    computed_at: datetime,
    previous: PreviousReadings | None,
    found: EarlierFindings | None = None,
    *,
    steer: bool = False,
) -> Look:
    """The look ending at `end` from its sums (stage 1), given the previous look's readings
    (`{}` for a first look; None for a page on its own, without running readings) and the
    segments found to differ up to it (`segment_tests.stored_findings`). A bandit's look
    reads its arms (`readings.bandit_arms`) and decides by them; with `steer` (the newest
    stored look of a running bandit) it opens the next update period when one is due."""
    experiment, variants, aggregates = inputs.experiment, inputs.variants, sums.aggregates
    # The plan the look is judged against (an assumed one re-planned once, `verdict.replan`).
    design = design_as_of(inputs.design, inputs.primary, len(variants), end)
    terms = SummaryTerms(experiment.unit_type, design.currency)
    plan = with_sentence(plan_facts(design, inputs.primary, variants, aggregates), terms.unit)
    # 2. Readings, then 3. running readings.
    readings = analyse(inputs, sums, design, plan.units_per_variant, terms)
    if previous is not None:
        readings = running_readings(readings, previous, end)
    readings = with_families(readings, design.secondary_correction, design.alpha)
    # The plan counts CUPED's measured variance reduction (the test keeps its tuning).
    plan = with_sentence(plan_with_cuped(plan, readings[0]), terms.unit)
    # 4. The verdict.
    srm = srm_of(readings)
    progress = plan_progress(inputs, aggregates, plan, end, has_reading=readings[0].issue is None)
    decision = decide_look(inputs, readings, srm, aggregates, progress, design, end)
    # Exploratory, after the verdict: the segments whose effect differs from the rest's.
    terms_of_segments = (design.alpha, plan.units_per_variant)
    segments = segment_findings(inputs, aggregates, terms_of_segments, found or {}, end)
    # 5. The words, then the page.
    warnings = look_warnings(srm, aggregates)
    outcome = stop_outcome_of(experiment)
    summary = look_summary(
        decision, readings, variants[0], warnings, terms, plan, progress, outcome, segments
    )
    bandit = None
    if experiment.type == "bandit":
        planned = plan.units_per_variant
        at_end = experiment.stopped_at is not None and end >= experiment.stopped_at
        if planned is not None and sum(aggregates.units.values()) >= planned * len(variants):
            at_end = True
        bandit = bandit_reading(
            inputs, aggregates, end, sums.first_exposed_at, steer=steer, planned_end=at_end
        )
        if bandit.gain is not None:
            text = gain_words(bandit.gain.extra, inputs.primary, terms.currency)
            bandit = replace(bandit, gain=replace(bandit.gain, text=text))
        names = {str(v["key"]): str(v["name"]) for v in experiment.variants}
        decision = bandit_decision(bandit, names, variants[0])
        srm = SrmResult(srm.p_value, bandit.srm_mismatch)
        warnings = bandit_warnings(bandit, warnings)
        summary = bandit_summary(bandit, decision, names)
        summary = summary_after_stop(summary, outcome)
    results = ExperimentResults(
        experiment=experiment.key,
        status=experiment.status,
        computed_at=computed_at,
        as_of=end,
        srm=srm,
        warnings=warnings,
        metrics=tuple(readings),
        decision=decision,
        summary=summary,
        source=sums.source,
        currency=design.currency,
        planned_units_per_variant=plan.units_per_variant,
        outcome=outcome,
        plan=plan,
        unit=terms.unit,
        segments_that_differ=segments,
        bandit=bandit,
    )
    return Look(sums, results, results_page(results))


def new_looks(
    session: Session,
    inputs: LookInputs,
    previous: tuple[ResultsPage, Mapping[str, Any]] | None,
    end: datetime,
    computed_at: datetime,
    full_look_every: timedelta = FULL_LOOK_EVERY,
) -> tuple[list[Look], Design | None]:
    """The looks to take after the stored `previous` one (its page and its stored sums, which
    an incremental look starts from; the backfill when there is none), oldest first, and the
    design re-planned at the first look that re-plans (or None)."""
    looks: list[Look] = []
    replan: Design | None = None
    page, stored = (None, None) if previous is None else previous
    for look_end, sums in sums_of_new_looks(session, inputs, end, stored, full_look_every):
        if replan is None:
            replan = replanned(
                inputs.design,
                inputs.primary,
                inputs.variants,
                sums.aggregates,
                inputs.experiment.started_at,
                look_end,
            )
            inputs = inputs if replan is None else replace(inputs, design=replan)
        earlier = (stored_readings(page), stored_findings(page))
        steer = look_end == end and inputs.experiment.status == "running"
        look = make_look(inputs, sums, look_end, computed_at, *earlier, steer=steer)
        looks.append(look)
        page = look.page
    return looks, replan


def compute_results(
    session: Session, key: str, as_of: datetime | None = None, now: datetime | None = None
) -> ExperimentResults:
    """Results of experiment `key` counting events up to `as_of` (default: now, or the stop),
    on their own: no running readings of stored looks, nothing stored.

    Raises NotFoundError for an unknown key, ConflictError for a draft (it has no data) and
    InvalidInputError for an `as_of` without a timezone.
    """
    computed_at = now or datetime.now(UTC)
    experiment = get_experiment(session, key)
    end = end_of_analysis(experiment, as_of, computed_at)
    inputs = look_inputs(session, experiment)
    return make_look(inputs, read_sums(session, inputs, end), end, computed_at, None).results
