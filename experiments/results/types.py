"""Result types of the results pipeline: what a look computes, before it is a page.

They hold `stats`' own typed readings; `render` turns them into the served and stored page
(`page.ResultsPage`) once, at the pipeline's edge. They know nothing of words: `wording` and
`render` read them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Literal

from experiments.models.metric import Direction, MetricKind, ValueFormat
from experiments.results.bandit_types import BanditReading
from experiments.results.verdict.guardrails import NO_BOUNDS, GuardrailReading
from experiments.results.verdict.stop_outcome import StopOutcome
from stats import AnalysisResult, Interval, SrmResult, VariantSummary

Role = Literal["primary", "secondary", "guardrail"]

FamilyCorrection = Literal["bh", "holm", "none", "within_metric"]
"""How a family's p-values are adjusted: the secondary metrics' correction across metrics x
arms (`Design.secondary_correction`), or `within_metric` (the primary metric and each guardrail:
across its own arms only, Holm for the fixed reading and Bonferroni for the sequential one)."""


@dataclass(frozen=True, slots=True)
class FamilyReading:
    """A comparison read as one of its family (`readings.families`): the primary metric keeps
    its full alpha, the secondary metrics are corrected together across metrics x arms, each
    guardrail is judged on its own rule. `size` counts the family's comparisons with a reading;
    `significant` and `sequential_significant` are the adjusted p-values below alpha."""

    family: Role
    correction: FamilyCorrection
    size: int
    p_value_adjusted: float | None
    significant: bool
    sequential_p_value_adjusted: float | None
    sequential_significant: bool


class Verdict(StrEnum):
    """What to do with the experiment (the rules are in `decision`)."""

    SHIP = "ship"
    """Roll the decision's variant out: it won on the primary metric and cleared every
    guardrail, and no data problem blocks it (rule 1 of `decision`)."""
    STOP = "stop"
    """End the experiment and keep the control: every variant got worse or harmed a guardrail."""
    KEEP_RUNNING = "keep_running"
    """Let more units in: no verdict yet, the plan not reached or the primary metric not yet
    analysable (on a fixed list: wait for the attribution window to close)."""
    INCONCLUSIVE = "inconclusive"
    """No verdict to act on: the plan is reached (or the whole list counted) without one, or a
    problem with the data (sample ratio mismatch, units in several variants) blocks a ship."""


class MetricIssue(StrEnum):
    """Why a metric has no comparisons, or no reading in some; the rest of the page is still
    computed."""

    NOT_ENOUGH_UNITS = "not_enough_units"
    """A variant has fewer than 2 exposed units: values only, no comparison."""
    INVALID_STATISTICS = "invalid_statistics"
    """`stats` refused the sums (`detail` gives its message): values only."""
    NOT_IN_PASTED_COUNTS = "not_in_pasted_counts"
    """The pasted totals cannot give the metric, or not its spread: values only."""
    NOT_ENOUGH_DATA = "not_enough_data"
    """The metric is analysed, but some comparison has too little data for a reading yet."""


@dataclass(frozen=True, slots=True)
class PercentileCap:
    """A cap given as a percentile and the per-unit value it came to (None: no unit had one)."""

    percentile: float
    value: float | None
    description: str | None = None
    """The cap in words (`caps.cap_description`): the value it came to, what the interval is
    about."""


@dataclass(frozen=True, slots=True)
class PlanFacts:
    """What the plan is, where it comes from, and what it detects at the observed baseline."""

    units_per_variant: int | None
    planned_from: str | None
    baseline: float
    """The baseline the plan is sized for: observed once re-planned, else the assumption."""
    observed_baseline: float | None
    """The control's baseline at this look (None before the burn-in's data)."""
    detectable_change: float | None
    """The smallest relative change the plan detects with the design's power at the observed
    baseline (None without one)."""
    replanned_at: datetime | None
    kind: str
    """The primary metric's kind: its baseline is a rate ("conversion") or a coefficient of
    variation."""
    text: str = ""
    """The plan in words (`plan_words`)."""
    variance_reduction: float | None = None
    """The share of the primary metric's variance the pre-period data (CUPED) removes at this
    look, when the plan uses it (`replan.plan_with_cuped`); None otherwise."""
    cuped_units_per_variant: int | None = None
    """The units per variant that give the plan's precision with that reduction: what "keep
    running" counts towards (None: the plan's own units)."""

    @property
    def final(self) -> bool:
        """False while the plan may still be re-derived: reaching it then ends nothing."""
        return self.planned_from != "assumption"

    @property
    def units_needed(self) -> int | None:
        """The units per variant the look counts towards: with CUPED's reduction where the plan
        uses it, else the plan's."""
        if self.cuped_units_per_variant is not None:
            return self.cuped_units_per_variant
        return self.units_per_variant


@dataclass(frozen=True, slots=True)
class RunningReading:
    """What a comparison's looks so far add up to, beyond its sequential reading (`running`).

    `significant_since`: the end of the first look whose running p-value fell below alpha (None
    while it has not, or when an older look did not record it). `intersection`: the absolute
    confidence sequences of the looks since the effect last changed, intersected (a None bound:
    unbounded). `effect_changing`: this look cannot hold together with the earlier ones (their
    intersection with it is empty, or its estimate lies outside theirs).
    """

    significant_since: datetime | None = None
    intersection: Interval = Interval(None, None, None)
    effect_changing: bool = False


@dataclass(frozen=True, slots=True)
class MetricResult:
    """One metric of the experiment: its value per variant and the statistics' comparisons.

    `variants` holds each variant's units and the metric's value in it (`mean`: a rate, a mean
    per unit or a ratio of sums; None without units or, for a ratio, without a denominator),
    served as `value` and computed from the sums even when the metric is not analysed.
    `analysis` is None when the metric could not be analysed; `issue` and `detail` say why
    (`not_enough_data` comes with an analysis whose thin comparisons carry no reading).
    `cap` is the per-unit cap a percentile cap came to, with that percentile; `margin` the
    guardrail's relative non-inferiority margin. `running` holds, per variant, what a stored
    look adds to the sequential reading (`running`); empty for a page computed on its own.
    `margin_bounds` holds, per variant, a margin guardrail's one-sided sequential bounds on the
    relative change at level alpha (`ci_low`: the "greater" reading's lower bound, `ci_high`:
    the "less" reading's upper bound; the family corrected as the two-sided reading is); the
    margin is decided on them (`direction.beyond_margin`, `within_margin`). Empty without a
    margin; the two-sided sequential interval stays the likely range shown.
    """

    metric: str
    name: str
    kind: MetricKind
    direction: Direction
    role: Role
    variants: tuple[VariantSummary, ...]
    analysis: AnalysisResult | None
    issue: MetricIssue | None = None
    detail: str | None = None
    value_format: ValueFormat = "number"
    # For a ratio metric, what its denominators count per variant ("3 orders in control, 41 in
    # b"): a ratio's reading rests on them, not on the units.
    denominators: str | None = None
    cap: PercentileCap | None = None
    margin: float | None = None  # a guardrail's non-inferiority margin, when it has one
    running: Mapping[str, RunningReading] = field(default_factory=dict)
    margin_bounds: Mapping[str, Interval] = field(default_factory=dict)
    not_pasted: tuple[str, ...] = ()
    """Pasted counts: the variants whose counts leave this metric's field out (value None)."""
    families: Mapping[str, FamilyReading] = field(default_factory=dict)
    """Per variant, its comparison read as one of the metric's family (`readings.families`);
    empty before that stage."""

    def running_of(self, variant: str) -> RunningReading:
        """The running reading of ``variant``'s comparison (the default on a page of its own)."""
        return self.running.get(variant) or RunningReading()

    def margin_bounds_of(self, variant: str) -> Interval:
        """``variant``'s one-sided bounds for the margin (no bounds: nothing shown either way)."""
        return self.margin_bounds.get(variant) or NO_BOUNDS


@dataclass(frozen=True, slots=True)
class FixedListPlan:
    """The list, its split and what it can detect on the primary metric."""

    population: int
    units_per_variant: int
    detectable_change: float | None
    window_closes_at: datetime | None
    test_share: float | None


@dataclass(frozen=True, slots=True)
class SendAdvice:
    """Test-then-send: the variant to send to the rest of the list and what it should bring."""

    variant: str
    clearly_better: bool
    remaining_units: int
    expected_extra: float | None
    counted_as: str


@dataclass(frozen=True, slots=True)
class Decision:
    """The verdict, the variant it is about and why; `wait_until`, `list_plan` and `send`
    belong to sends to a fixed list."""

    verdict: Verdict
    variant: str | None
    """The variant the verdict is about: the one to ship, the first one stopped, or a better one
    held back (by a guardrail's margin, a sample ratio mismatch or a data-quality problem);
    None when no variant is singled out."""
    reason: str
    additional_units_per_variant: int | None = None
    """Keep running: the units each variant still needs to reach the plan (None: no plan)."""
    additional_days: int | None = None
    """Keep running: the days those units take at the traffic so far (None: no plan, or no
    traffic to go by yet)."""
    wait_until: datetime | None = None
    """Keep running on a fixed list: when the attribution window after the send closes."""
    list_plan: FixedListPlan | None = None
    send: SendAdvice | None = None
    """Test-then-send, once the window has closed: what to send to the rest of the list."""
    harmed_guardrail: str | None = None
    """Stop: the key of the guardrail the stopped variant harmed (the first, in page order; None
    when only the primary metric got worse); the summary names it."""
    guardrails: tuple[GuardrailReading, ...] = ()
    """Each guardrail's reading for each variant (`guardrails`), read once by `decide`."""


# The SRM of a look where no metric could be analysed: no check (its p-value is null in the
# JSON, like every non-finite figure of `stats`), and no mismatch.
NO_SRM_CHECK = SrmResult(math.nan, False)


@dataclass(frozen=True, slots=True)
class SegmentFinding:
    """A (dimension, level, variant) cell whose effect on the primary metric differs from the
    rest's (`readings.segment_tests`): this look's effects and difference, and the running
    minimum of its adjusted p-value over the looks, so a cell once found stays reported."""

    dimension: str
    level: str
    variant: str
    rest_level: str | None
    level_effect: float | None
    rest_effect: float | None
    difference: Interval
    p_value_adjusted: float
    found_at: datetime
    differs_at_this_look: bool

    @property
    def cell(self) -> tuple[str, str, str]:
        return (self.dimension, self.level, self.variant)


@dataclass(frozen=True, slots=True)
class ExperimentResults:
    """The results of one experiment at one look (docs/results.md); `render.results_page`
    makes the page served of it."""

    experiment: str
    status: str
    """The experiment's status when the page was computed (a stored look is served with the
    status the experiment has when it is served)."""
    computed_at: datetime
    """When the page was computed."""
    as_of: datetime
    """The moment events are counted up to: the earliest of `computed_at`, the moment asked for
    and the stop."""
    srm: SrmResult
    """The sample ratio check of the units per variant; `NO_SRM_CHECK` when no metric could be
    analysed."""
    warnings: tuple[str, ...]
    """Sentences on what the reader must know before trusting the page: a sample ratio mismatch,
    units left out for seeing several variants."""
    metrics: tuple[MetricResult, ...]
    """The primary metric first, then the secondary metrics and the guardrails."""
    decision: Decision
    summary: str
    """The page in plain words: the verdict, why, and what to do next (once stopped, what was
    done)."""
    source: str = "events"
    """Where the sums come from: "events", or "pasted_counts" (totals from an e-mail tool)."""
    currency: str = "NOK"
    """The currency of money in the summary."""
    planned_units_per_variant: int | None = None
    """The units per variant the sequential readings are tuned to; None when no finite plan
    exists."""
    outcome: StopOutcome | None = None
    """Set once stopped: what was done."""
    plan: PlanFacts | None = None
    """The plan, where it comes from and what it detects at the observed baseline."""
    unit: str = "unit"
    """What the experiment calls a unit (visitor, subscriber): the pages name it so."""
    segments_that_differ: tuple[SegmentFinding, ...] | None = None
    """The segments that differ (None: the experiment names no dimensions)."""
    bandit: BanditReading | None = None
    """A bandit's own reading (None: an A/B test)."""
