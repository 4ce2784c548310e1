"""The verdict: ship, stop, keep running or inconclusive, from the sequential readings.

Only the always-valid (sequential) results of the primary metric and the guardrails decide, so
the verdict stays honest however often it is read. A reading shows a change when the interval
it reports (the current look's own confidence sequence) lies wholly on one side of zero; the
direction is that side, never a point estimate the interval contradicts. Rules, in order
(docs/results.md):
1. a variant shown better on the primary metric with no guardrail harmed is shipped, unless a
   sample ratio mismatch or a data-quality problem touching more than 1 % of the units blocks
   shipping (then: inconclusive until the cause is found). A guardrail without a margin is
   harmed when shown worse; one with a relative non-inferiority margin is harmed only when a
   loss beyond the margin is shown (a loss within it is tolerated), and must have ruled out a
   loss larger than the margin, else the variant waits. Both margin questions are one-sided
   tests at level alpha (the one-sided sequential bounds, `MetricResult.margin_bounds`). Each
   guardrail's state per variant is read once (`guardrails.read_guardrail`, margins from
   `MetricResult.margin`) and kept on the decision, where the summary and the words read it;
2. when every variant is shown worse on the primary metric or harms a guardrail: stop;
3. a variant whose primary metric or guardrail is changing over time at this look waits (keep
   running; inconclusive once the plan is reached): it neither ships nor stops on a sign that
   the earlier looks contradict;
4. when the planned units per variant are reached: inconclusive, but only at a plan that will
   not be re-derived (an assumed plan keeps running until its re-plan, `replan`);
5. otherwise keep running, with the units and days still needed for the planned power.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from experiments.results.readings.direction import is_better, shown_change
from experiments.results.types import Decision, MetricResult, Verdict
from experiments.results.verdict.guardrails import GuardrailReading, GuardrailState, read_guardrail
from stats import Comparison, days_to_run

DATA_QUALITY_BLOCKING_SHARE = 0.01


@dataclass(frozen=True, slots=True)
class PlanProgress:
    """How far the experiment is from its planned sample."""

    planned_units_per_variant: int | None
    smallest_variant_units: int
    variants: int
    daily_units: float | None
    final: bool = True
    """False for a plan sized at an assumed baseline, re-derived after the burn-in."""

    def additional_units(self) -> int | None:
        if self.planned_units_per_variant is None or self.waits_for_replan:
            return None
        return max(self.planned_units_per_variant - self.smallest_variant_units, 0)

    @property
    def waits_for_replan(self) -> bool:
        """An assumed plan is reached before its re-plan exists: no end to count towards."""
        planned = self.planned_units_per_variant
        return not self.final and planned is not None and self.smallest_variant_units >= planned

    def additional_days(self) -> int | None:
        more = self.additional_units()
        if more is None or not self.daily_units:
            return None
        return days_to_run(more, self.variants, self.daily_units)

    @property
    def reached(self) -> bool:
        planned = self.planned_units_per_variant
        return self.final and planned is not None and self.smallest_variant_units >= planned


@dataclass(frozen=True, slots=True)
class Blockers:
    """What stops a "ship": a sample ratio mismatch or a large data-quality problem."""

    srm: bool
    data_quality_share: float

    @property
    def data_quality(self) -> bool:
        return self.data_quality_share > DATA_QUALITY_BLOCKING_SHARE


def improves(result: MetricResult, comparison: Comparison) -> bool:
    """The reported sequential interval lies wholly on the metric's good side of zero."""
    change = shown_change(comparison)
    return change != 0 and is_better(result.direction, change)


def harms(result: MetricResult, comparison: Comparison, margin: float | None = None) -> bool:
    """Shown worse: without a margin, the reported (two-sided) sequential interval lies wholly on
    the bad side of zero; with a relative non-inferiority ``margin``, the one-sided test at level
    alpha shows a loss beyond the margin (the `guardrails` rule)."""
    return _reading(result, comparison, margin).state is GuardrailState.HARMED


def loss_ruled_out(result: MetricResult, comparison: Comparison, margin: float) -> bool:
    """A loss larger than ``margin`` is ruled out: the one-sided sequential bound on the metric's
    good side, at level alpha, lies within it. False without bounds."""
    return _reading(result, comparison, margin).state is GuardrailState.WITHIN_MARGIN


def _reading(
    result: MetricResult, comparison: Comparison, margin: float | None
) -> GuardrailReading:
    bounds = result.margin_bounds_of(comparison.variant)
    return read_guardrail(
        result.metric, comparison.variant, result.direction, comparison, margin, bounds
    )


def guardrail_readings(
    primary: MetricResult, guardrails: list[MetricResult]
) -> tuple[GuardrailReading, ...]:
    """Each guardrail's reading (with its own margin) for every variant compared on the primary
    metric or on the guardrail, in page order; a variant it has no comparison for is not yet
    shown."""
    compared = [c.variant for c in primary.analysis.comparisons] if primary.analysis else []
    readings = []
    for guardrail in guardrails:
        own = {c.variant: c for c in guardrail.analysis.comparisons} if guardrail.analysis else {}
        for variant in dict.fromkeys([*compared, *own]):
            bounds = guardrail.margin_bounds_of(variant)
            reading = read_guardrail(
                guardrail.metric,
                variant,
                guardrail.direction,
                own.get(variant),
                guardrail.margin,
                bounds,
            )
            readings.append(reading)
    return tuple(readings)


def changing_metrics(
    primary: MetricResult, guardrails: list[MetricResult], variant: str
) -> list[str]:
    """Keys of the deciding metrics (the primary, then the guardrails) whose effect of
    ``variant`` is changing over time at this look."""
    return [
        result.metric
        for result in (primary, *guardrails)
        if result.running_of(variant).effect_changing
    ]


def unproven_guardrails(readings: tuple[GuardrailReading, ...], variant: str) -> list[str]:
    """Guardrails with a margin that have not yet ruled out a loss beyond it for ``variant``."""
    return [r.metric for r in readings if r.variant == variant and r.waits]


@dataclass(frozen=True, slots=True)
class _Findings:
    """What the primary metric and the guardrails say about each variant against the control.

    `harmed`: why a variant must not ship; `harmed_guardrails`: the first guardrail each variant
    harmed; `candidates`: variants that may ship; `waiting`: better variants whose margin
    guardrails have not yet ruled out a loss beyond the margin; `changing`: variants whose
    effect on a deciding metric is changing over time, with those metrics.
    """

    harmed: dict[str, str]
    harmed_guardrails: dict[str, str]
    candidates: list[Comparison]
    waiting: dict[str, list[str]]
    changing: dict[str, list[str]]


def decide(
    primary: MetricResult, guardrails: list[MetricResult], blockers: Blockers, plan: PlanProgress
) -> Decision:
    """The verdict for the experiment, with every guardrail's reading (`Decision.guardrails`);
    see the module docstring for the rules. A guardrail's margin is its `MetricResult.margin`."""
    readings = guardrail_readings(primary, guardrails)
    return replace(_verdict(primary, guardrails, readings, blockers, plan), guardrails=readings)


def _verdict(
    primary: MetricResult,
    guardrails: list[MetricResult],
    guardrail_states: tuple[GuardrailReading, ...],
    blockers: Blockers,
    plan: PlanProgress,
) -> Decision:
    if primary.analysis is None:
        return Decision(
            Verdict.KEEP_RUNNING,
            None,
            f"the primary metric {primary.metric} cannot be analysed yet ({primary.detail})",
            plan.additional_units(),
            plan.additional_days(),
        )
    readings = _read(primary, guardrails, guardrail_states)
    if readings.candidates:
        return _ship(primary, readings.candidates, blockers)
    treatments = [c.variant for c in primary.analysis.comparisons]
    if treatments and all(variant in readings.harmed for variant in treatments):
        first = treatments[0]
        reason = f"in {first}, {readings.harmed[first]}"
        return Decision(
            Verdict.STOP, first, reason, harmed_guardrail=readings.harmed_guardrails.get(first)
        )
    if readings.changing:
        return _changing(readings.changing, plan)
    if readings.waiting:
        return _waiting_for_guardrails(primary, readings.waiting, guardrail_states, plan)
    if plan.reached:
        return Decision(
            Verdict.INCONCLUSIVE,
            None,
            f"the planned {plan.planned_units_per_variant} units per variant are reached and "
            f"no variant differs significantly on {primary.metric}",
        )
    return Decision(
        Verdict.KEEP_RUNNING,
        None,
        f"no variant differs significantly on {primary.metric} yet",
        plan.additional_units(),
        plan.additional_days(),
    )


def _read(
    primary: MetricResult,
    guardrails: list[MetricResult],
    guardrail_states: tuple[GuardrailReading, ...],
) -> _Findings:
    readings = _Findings({}, {}, [], {}, {})
    comparisons = primary.analysis.comparisons if primary.analysis else ()
    for comparison in comparisons:
        variant = comparison.variant
        changing = changing_metrics(primary, guardrails, variant)
        if changing:
            readings.changing[variant] = changing
            continue
        harmed_guardrails = [
            r.metric
            for r in guardrail_states
            if r.variant == variant and r.state is GuardrailState.HARMED
        ]
        reasons = [f"{primary.metric} got worse"] if harms(primary, comparison) else []
        reasons += [f"guardrail {key} was harmed" for key in harmed_guardrails]
        if reasons:
            readings.harmed[variant] = " and ".join(reasons)
            if harmed_guardrails:
                readings.harmed_guardrails[variant] = harmed_guardrails[0]
        elif improves(primary, comparison):
            unproven = unproven_guardrails(guardrail_states, variant)
            if unproven:
                readings.waiting[variant] = unproven
            else:
                readings.candidates.append(comparison)
    return readings


def _ship(primary: MetricResult, candidates: list[Comparison], blockers: Blockers) -> Decision:
    """Ship the best candidate, unless a sample ratio mismatch or a data-quality problem makes
    the results untrustworthy."""
    good = 1.0 if primary.direction == "increase" else -1.0
    best = max(candidates, key=lambda c: good * (c.relative.estimate or 0.0))
    if blockers.srm or blockers.data_quality:
        problem = "a sample ratio mismatch" if blockers.srm else "a data-quality problem"
        return Decision(
            Verdict.INCONCLUSIVE,
            best.variant,
            f"{best.variant} looks better on {primary.metric}, but {problem} makes the "
            "results untrustworthy; find the cause before shipping",
        )
    return Decision(
        Verdict.SHIP,
        best.variant,
        f"{best.variant} is significantly better on {primary.metric} (sequential test) "
        "and harms no guardrail",
    )


def _waiting_for_guardrails(
    primary: MetricResult,
    waiting: dict[str, list[str]],
    guardrail_states: tuple[GuardrailReading, ...],
    plan: PlanProgress,
) -> Decision:
    """A better variant whose margin guardrails have not yet ruled out a loss beyond the margin."""
    variant, unproven = next(iter(waiting.items()))
    margins = {r.metric: r.margin for r in guardrail_states if r.variant == variant}
    rules = ", ".join(f"{key} (margin {margins[key]:.1%})" for key in unproven)
    reason = (
        f"{variant} is significantly better on {primary.metric}, but a loss beyond the margin "
        f"is not yet ruled out on {rules}"
    )
    if plan.reached:
        return Decision(Verdict.INCONCLUSIVE, variant, reason)
    return Decision(
        Verdict.KEEP_RUNNING, variant, reason, plan.additional_units(), plan.additional_days()
    )


def _changing(changing: dict[str, list[str]], plan: PlanProgress) -> Decision:
    """A variant whose effect is changing over time: the verdict waits for it to settle."""
    variant, metrics = next(iter(changing.items()))
    reason = (
        f"the effect of {variant} on {', '.join(metrics)} is changing over time: this look's "
        "interval cannot hold together with the earlier looks', so no verdict is taken on it"
    )
    if plan.reached:
        return Decision(Verdict.INCONCLUSIVE, variant, reason)
    return Decision(
        Verdict.KEEP_RUNNING, variant, reason, plan.additional_units(), plan.additional_days()
    )
