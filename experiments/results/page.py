"""The results page as typed values: what a look stores, what the results routes serve, and
what the pages, the command line and the overview read.

One pydantic family, from `ResultsPage` down to `IntervalReading`. A look is stored as
`page.as_json()` and read back with `ResultsPage.model_validate`; the routes serve the same
classes as their response model, so the OpenAPI describes every field. Fields added after the
first looks were stored have defaults, and a field a page was built without stays unset: a
stored look is served as it was stored (`exclude_unset`), and an old look still loads. The
pages are built once, from the pipeline's typed results, by `render`.

A breakdown by segment (`?dimension=`) is `ResultsPage.segments`: per level, its metric pages,
read the same way.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import Field

from experiments.models.metric import Direction, MetricKind, ValueFormat
from experiments.results.bandit_page import BanditPage
from experiments.results.page_parts import IsoDatetime, PagePart
from experiments.results.readings.direction import Movement
from experiments.results.sums.aggregation import GroupKey
from experiments.results.types import FamilyCorrection, MetricIssue, Role, Verdict
from stats import Reason


class DisplayState(StrEnum):
    """The state a client should show first (`display_state` in the results JSON)."""

    SHIPPED = "shipped"
    """Stopped with a winner other than the control, served to everyone."""
    KEPT_CONTROL = "kept_control"
    """Stopped with the control named the winner."""
    STOPPED_WITHOUT_WINNER = "stopped_without_winner"
    """Stopped without a winner: everyone gets the control."""
    WAITING_FOR_WINDOW = "waiting_for_window"
    """A send to a fixed list: the verdict waits for the attribution window to close."""
    SHIP = "ship"
    STOP = "stop"
    KEEP_RUNNING = "keep_running"
    INCONCLUSIVE = "inconclusive"
    NO_VERDICT = "no_verdict"
    """A draft, or no look yet."""


class IntervalReading(PagePart):
    """An estimate and its interval (a None bound: none yet)."""

    estimate: float | None
    ci_low: float | None
    ci_high: float | None


class Bounds(PagePart):
    """Two bounds without an estimate (None: unbounded on that side)."""

    ci_low: float | None
    ci_high: float | None


class MarginBounds(PagePart):
    """A margin guardrail's one-sided sequential bounds on the relative change."""

    ci_low: float | None
    ci_high: float | None
    alternative: Literal["one-sided"] = "one-sided"


class SequentialReading(PagePart):
    """The always-valid reading that decides, running over the looks so far."""

    p_value: float | None
    absolute: IntervalReading
    relative: IntervalReading
    significant: bool
    p_value_adjusted: float | None = None
    significant_since: IsoDatetime | None = None
    """The end of the first look whose running p-value fell below alpha."""
    effect_changing: bool = False
    """This look cannot hold together with the earlier ones: the effect changes over time."""
    intersection: Bounds | None = None
    """The absolute confidence sequences of the looks since the effect last changed,
    intersected."""


class BayesianReading(PagePart):
    chance_to_beat: float | None
    expected_loss: float | None


class CupedReading(PagePart):
    variance_reduction: float | None


class FamilyPage(PagePart):
    """The comparison read as one of its family of metrics (docs/results.md, "Families of
    metrics"): `primary` keeps its full alpha, `secondary` metrics are corrected together
    across metrics x arms, each `guardrail` is judged on its own rule."""

    family: Role
    correction: FamilyCorrection
    """`bh`, `holm` or `none` for the secondary metrics (the design's `secondary_correction`);
    `within_metric` for the primary metric and the guardrails (across their own arms only)."""
    size: int
    """The family's comparisons with a reading."""
    p_value_adjusted: float | None
    """The fixed-horizon p-value adjusted over the family."""
    significant: bool
    sequential_p_value_adjusted: float | None
    """The running always-valid p-value adjusted over the family."""
    sequential_significant: bool
    """The deciding reading, read with its family: what the page's words go by."""


class ComparisonPage(PagePart):
    """One variant against the control; `reason` names why figures are missing or partial."""

    variant: str
    baseline: str
    absolute: IntervalReading
    relative: IntervalReading
    p_value: float | None
    p_value_adjusted: float | None
    significant: bool
    sequential: SequentialReading
    bayesian: BayesianReading
    reason: Reason | None
    cuped: CupedReading | None = None
    outcome: Movement | None = None
    """What the deciding reading shows, in the metric's direction."""
    decided_by: Literal["sequential"] = "sequential"
    note: str | None = None
    """One line when the readings seem to disagree, or the looks so far tell more."""
    reason_text: str | None = None
    guardrail: str | None = None
    """A guardrail's reading in words: 'harmed', 'not harmed (shown within -1.2 %)'."""
    margin_bounds: MarginBounds | None = None
    family: FamilyPage | None = None
    """The comparison read as one of its family of metrics (absent in looks stored before)."""

    @property
    def significant_in_family(self) -> bool:
        """The deciding reading's significance read with its family (a look stored before the
        families: its own)."""
        if self.family is None:
            return self.sequential.significant
        return self.family.sequential_significant


class VariantValue(PagePart):
    """A variant's units and the metric's value in it (a rate, a mean or a ratio)."""

    key: str
    n: int
    value: float | None
    group: GroupKey = Field(
        default_factory=lambda values: GroupKey(variant=values["key"]), exclude=True
    )
    """The group these values are of (`sums.groups.GroupKey`). It only repeats `key`, so it
    stays out of the served and stored JSON (and is rebuilt from `key` when a look is read
    back): a segment's values sit in its `LevelPage`, whose `level` names it."""


class CapPage(PagePart):
    """A percentile cap and the per-unit value it came to at this look."""

    percentile: float
    value: float | None
    description: str | None = None
    """The cap in words; the metric's interval is about the capped values."""


class MetricPage(PagePart):
    """One metric: its value per variant and its comparisons with the control."""

    metric: str
    name: str
    kind: MetricKind
    direction: Direction
    role: Role
    variants: list[VariantValue]
    comparisons: list[ComparisonPage]
    reason: MetricIssue | None
    """Why the metric has no comparisons, or no reading in some."""
    detail: str | None
    cap: CapPage | None = None
    value_format: ValueFormat = "number"
    not_pasted: list[str] = []
    """Pasted counts: the variants whose counts leave this metric's field out."""
    reason_text: str | None = None
    denominators: str | None = None
    """A ratio metric: what its denominators count per variant."""
    margin: float | None = None
    """A guardrail's relative non-inferiority margin."""

    def comparison_of(self, variant: str) -> ComparisonPage | None:
        return next((c for c in self.comparisons if c.variant == variant), None)


class SrmPage(PagePart):
    """The sample ratio check (p-value null: no check)."""

    p_value: float | None
    mismatch: bool


class PlanPage(PagePart):
    """The planned units per variant, where they come from and what they detect."""

    units_per_variant: int | None
    planned_from: str | None
    """`design`, `list`, `assumption` (re-planned once after the burn-in) or `observed`."""
    baseline: float
    """The baseline the plan is sized for: a rate, or a coefficient of variation."""
    baseline_kind: Literal["rate", "coefficient_of_variation"]
    observed_baseline: float | None
    detectable_change: float | None
    """The smallest relative change the plan detects at the observed baseline."""
    replanned_at: IsoDatetime | None
    text: str
    variance_reduction: float | None = None
    """The share of the primary metric's variance the pre-period data (CUPED) removes at this
    look, when the plan counts it (absent otherwise)."""
    cuped_units_per_variant: int | None = None
    """The units per variant that give the plan's precision with that reduction: what "keep
    running" counts towards (absent without it)."""


class ListPlanPage(PagePart):
    """A send to a fixed list: the list, its split and what it can detect."""

    population: int
    units_per_variant: int
    detectable_change: float | None
    window_closes_at: IsoDatetime | None
    test_share: float | None


class SendAdvicePage(PagePart):
    """Test-then-send: the variant to send to the rest of the list and what it should bring."""

    variant: str
    clearly_better: bool
    remaining_units: int
    expected_extra: float | None
    counted_as: str


class OutcomePage(PagePart):
    """What was done at the stop."""

    stopped_at: IsoDatetime
    winner: str | None
    control: str | None = None
    """The control (a look stored before it was named: the first variant)."""
    statement: str = ""
    headline: str = ""


class DecisionPage(PagePart):
    """The verdict (`ship`, `stop`, `keep_running`, `inconclusive`) and why."""

    verdict: Verdict
    variant: str | None
    reason: str
    additional_units_per_variant: int | None = None
    additional_days: int | None = None
    decided_by: Literal["sequential"] = "sequential"
    wait_until: IsoDatetime | None = None
    """Keep running on a fixed list: when the attribution window after the send closes."""
    list_plan: ListPlanPage | None = Field(default=None, alias="list")
    send: SendAdvicePage | None = None
    outcome: OutcomePage | None = None
    """Set once stopped: what was done."""


class LevelPage(PagePart):
    """One level of a breakdown: its units per variant, its own sample ratio check, and every
    metric's values and comparisons over its units (exploratory)."""

    level: str
    """The attribute's value at the units' first exposure; `other` for the levels beyond the
    20 with the most units, `(none)` for units whose first exposure did not carry it."""
    units: dict[str, int]
    """Units per variant."""
    srm: SrmPage
    metrics: list[MetricPage]
    """The whole's metrics in the same order, corrected over the breakdown's family."""


class SegmentsPage(PagePart):
    """The results broken down by one dimension (`?dimension=`): exploratory readings, for new
    hypotheses, never for the ship decision; the verdict is the whole's."""

    dimension: str
    dimensions: list[str]
    """Every dimension the experiment breaks results down by."""
    exploratory: Literal[True] = True
    note: str
    """Why the readings are exploratory, in words."""
    correction: str
    """The correction of the fixed-horizon p-values over the family (the experiment's); the
    sequential readings are corrected by Bonferroni over the same family."""
    family: int
    """The comparisons corrected together: levels x arms x metrics."""
    levels: list[LevelPage]
    """Largest first, then `other` and `(none)`; empty when the look has no sums of the
    dimension (looks stored before it was named)."""


class SegmentDifferencePage(PagePart):
    """A (dimension, level, variant) cell whose effect on the primary metric differs from the
    effect in the rest of the units (exploratory: it never changes the verdict)."""

    dimension: str
    level: str
    variant: str
    rest_level: str | None
    """The other level when the dimension has two, else None (the rest of the units)."""
    level_effect: float | None
    """The variant's relative effect in the level, at this look."""
    rest_effect: float | None
    difference: IntervalReading
    """(1 + level_effect) / (1 + rest_effect) - 1, with its always-valid interval."""
    p_value_adjusted: float
    """Bonferroni-adjusted, the running minimum over the looks (found once, reported for good)."""
    found_at: IsoDatetime
    """The end of the first look that found the difference."""
    differs_at_this_look: bool
    """False when only an earlier look's adjusted p-value is below alpha."""


class LookKindPage(PagePart):
    """How a stored look's sums were taken (docs/results.md, "Incremental looks")."""

    kind: str
    """`incremental` (from the previous look's sums) or `full` (from every event)."""
    reason: str | None = None
    """Why a look was a full one (`first_look`, `guard`, `definitions_changed`, ...)."""
    units_read: int | None = None
    """An incremental look: the exposed units it read again."""


class ResultsPage(PagePart):
    """`GET /v1/experiments/{key}/results`: the results page of one look (docs/results.md)."""

    experiment: str
    status: str
    computed_at: IsoDatetime
    as_of: IsoDatetime
    srm: SrmPage
    warnings: list[str]
    metrics: list[MetricPage]
    """The primary metric first, then the secondary metrics and the guardrails."""
    decision: DecisionPage
    summary: str
    display_state: DisplayState | None = None
    """The state a client should show first. Once stopped, what was done: `shipped`,
    `kept_control` or `stopped_without_winner` (the `decision.verdict` keeps what the data said
    at the stop); else `waiting_for_window` (a send to a fixed list) or the verdict."""
    headline: str | None = None
    """`display_state` in words, the heading to lead with: "Shipped one-page on 5 December
    2026", "Stopped without a winner on 5 December 2026", "Waiting for the attribution window
    (closes 5 December 2026 14:00 UTC)", "Ship it: one-page", "Keep running"."""
    unit: str = "unit"
    """What the experiment calls a unit (`visitor`, `subscriber`)."""
    plan: PlanPage | None = None
    look: int | None = None
    """The stored look served (None: computed for `as_of`, none stored)."""
    look_kind: LookKindPage | None = None
    """A stored look: incremental or full, and why (absent in looks stored before)."""
    source: str = "events"
    """Where the sums come from: `events`, or `pasted_counts` (totals from an e-mail tool)."""
    currency: str = "NOK"
    planned_units_per_variant: int | None = None
    """The units per variant the sequential readings are tuned to."""
    segments: SegmentsPage | None = None
    """Only with `?dimension=`: the look broken down by that dimension (exploratory)."""
    segments_that_differ: list[SegmentDifferencePage] | None = None
    """With dimensions: the cells whose effect differs from the rest's (exploratory)."""
    bandit: BanditPage | None = None
    """A bandit's arms, weights over time and leader (absent for an A/B test)."""

    @property
    def primary(self) -> MetricPage | None:
        return self.metrics[0] if self.metrics else None
