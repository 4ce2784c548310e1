"""The experiment entity: its table model and the API shapes (create, update, public, page).

Input contract (one place): keys and variant keys are slugs of 1-64 characters from a-z, 0-9,
`-` and `_`, and a new experiment's key is not one of `RESERVED_KEYS` (`new`); 2-10 variants,
the first is the control, weights are relative, 0 < weight <= 1e12 (`vekst_sdk.MAX_WEIGHT`), and
no weight so small against the others that its variant would get no units (the SDK's own rule:
the server refuses every definition the SDK would refuse); traffic
is the share of units in the experiment, 0 < traffic <= 1; metric keys name known metrics (at
most 20 secondary metrics and 20 guardrails); `guardrail_margins` are relative margins
0 < m < 1 keyed by guardrails, `cap_percentiles` percentiles 50 <= p < 100 keyed by the
experiment's metrics; names have 1-200 characters and the hypothesis at most 5000; overrides
map at most 10,000 unit ids (1-256 characters) to variant keys; payloads and targeting are JSON
the database can store (`experiments.inputs`: no NUL, no lone surrogates, integers within 64
bits, finite numbers, at most 32 levels deep). Design: 0 < alpha < 0.5, 0 < power < 1,
0 < mde_relative <= 100, planned_units_per_variant from 2 to 1e9, 0 < baseline_rate < 1,
0 < baseline_cv <= 1000; `planned_from`, `observed_baseline` (0 < b <= 1000) and
`replanned_at` are Vekst's record of the plan (what a draft sends is replaced at the start).
Percentile caps below `MIN_CAP_PERCENTILE` are refused when an experiment is defined
(`MetricSelection.check_new_caps`). `dimensions` names at most 5 distinct attributes (each a
valid attribute name by the rule of `/v1/assign`'s attributes: 1-128 characters of storable
text) that exposures keep, for results broken down by segment. `sticky` is a JSON boolean (SDKs
then keep each unit's first variant while the experiment runs) and `sticky_version` an integer
from 1 to 2**31 - 1.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    JsonValue,
    StrictBool,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)
from sqlalchemy import JSON, Column, false
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from experiments.db import UTCDateTime
from experiments.errors import InvalidInputError
from experiments.inputs import (
    MAX_UNIT_ID_LENGTH,
    SafeText,
    Slug,
    check_json,
    path_rule_error,
    printable,
)
from experiments.models.bandit import BanditSettings, ExperimentType
from experiments.models.json_column import ModelJSON
from experiments.templates import Template
from experiments.variant_changes import Changes, Css, Redirect
from vekst_sdk.spec import MAX_STICKY_VERSION, MAX_WEIGHT, validate_attributes
from vekst_sdk.spec import InvalidInputError as SdkInputError

Name = Annotated[SafeText, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
Hypothesis = Annotated[SafeText, StringConstraints(max_length=5000)]
UnitType = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
Traffic = Annotated[float, Field(gt=0, le=1)]
StickyVersion = Annotated[int, Field(strict=True, ge=1, le=MAX_STICKY_VERSION)]
"""Which generation of sticky assignments is served; `POST .../reshuffle` moves it on."""
Weight = Annotated[float, Field(gt=0, le=MAX_WEIGHT, allow_inf_nan=False)]
MAX_PLANNED_UNITS = 10**9
# A cap below this percentile changes the question when an effect acts on large values (a 90th
# percentile cap covered the uncapped effect on order values in only 90 % of runs: the
# statistics review of December 2026); defining one is refused.
MIN_CAP_PERCENTILE = 95.0
MAX_OVERRIDES = 10_000
MAX_DIMENSIONS = 5
MAX_DIMENSION_NAME_LENGTH = 128  # the SDK's rule for attribute names
RESERVED_KEYS = frozenset({"new"})
"""Words the pages use as fixed path segments under `/experiments/` (`/experiments/new`): an
experiment keyed so would hide behind that page, so no new experiment may take one."""


def _not_reserved(key: str) -> str:
    if key in RESERVED_KEYS:
        raise path_rule_error("", f"'{key}' is reserved for the pages' /experiments/{key}")
    return key


ExperimentKey = Annotated[Slug, AfterValidator(_not_reserved)]
Payload = Annotated[JsonValue, AfterValidator(check_json)]
Targeting = Annotated[dict[str, Any], AfterValidator(check_json)]


def _attribute_name(name: str) -> str:
    """`name` if an attribute may bear it (the SDK's rule, so there is one) and the results
    queries can address it: no `"`, `\\` or control character (a JSON path quotes the name)."""
    try:
        validate_attributes({name: True})
    except SdkInputError as error:
        raise ValueError(error.message) from error
    if not addressable(name):
        raise ValueError("a dimension name may not contain '\"', '\\' or control characters")
    return name


def addressable(name: str) -> bool:
    """Whether the results queries can read an attribute of this name (a JSON path quotes it)."""
    return not any(character in '"\\' or ord(character) < 32 for character in name)


def _distinct(names: list[str]) -> list[str]:
    for index, name in enumerate(names):
        if name in names[:index]:
            raise path_rule_error(f"[{index}]", f"'{printable(name)}' is named twice")
    return names


Dimensions = Annotated[
    list[Annotated[SafeText, AfterValidator(_attribute_name)]],
    Field(max_length=MAX_DIMENSIONS),
    AfterValidator(_distinct),
]
"""The attribute names an experiment keeps with its exposures and breaks results down by."""


class ExperimentStatus(StrEnum):
    DRAFT = "draft"
    RUNNING = "running"
    STOPPED = "stopped"
    ARCHIVED = "archived"


SERVED_STATUSES = frozenset({ExperimentStatus.RUNNING.value, ExperimentStatus.STOPPED.value})
"""The statuses SDKs serve and exposures are taken for: a draft assigns no one yet, an archived
experiment no one any more (the SDK's `STATUSES` says the same; a test compares them)."""


class _Strict(SQLModel):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]


class Variant(_Strict):
    """One arm of an experiment. `changes`, `css` and `redirect` are what the browser SDK applies
    by itself (no-code tests: `experiments.variant_changes` holds their rules)."""

    key: Slug
    name: Name
    weight: Weight
    payload: Payload = None
    changes: Changes | None = None
    css: Css | None = None
    redirect: Redirect | None = None


class Design(_Strict):
    """What the sequential test and the results' "keep running" estimate are tuned by.

    `planned_units_per_variant` is set when the experiment starts: when none is given it is
    `stats.sample_size` (sequential plan) for `mde_relative`, `alpha` and `power` at the
    baseline assumption: `baseline_rate` (the primary rate expected in the control) for a
    conversion primary metric (default 2.5 %), or `baseline_cv` (per-unit standard deviation /
    mean) for a mean or ratio one. Such an assumed plan is re-derived once, after the burn-in,
    from the control's observed rate or coefficient of variation (`observed_baseline`, at
    `replanned_at`), and then frozen; a plan given in the design or by a list never moves
    (`planned_from` says which; `experiments.results.verdict.replan`, docs/results.md).

    A send to a fixed list (a newsletter) declares `population`, the number of units the whole
    experiment will ever have (the list size), and `attribution_hours`, how long after the
    send (the start) opens, clicks and orders are still counted; the verdict then waits for that
    window instead of asking for more units. `test_share` (test-then-send) is the share of the
    list that gets the variants; once the window closes the results name the variant to send to
    the rest. `baseline_rate` also plans what the list can detect before any count arrives.
    `currency` is how money metrics are written. `secondary_correction` is how the secondary
    metrics are corrected together, across metrics x arms: `bh` (Benjamini-Hochberg, the
    default), `holm` or `none`; the primary metric keeps its full alpha and the guardrails their
    own rule (`experiments.results.readings.families`).
    """

    alpha: float = Field(default=0.05, gt=0, lt=0.5)
    power: float = Field(default=0.8, gt=0, lt=1)
    mde_relative: float = Field(default=0.10, gt=0, le=100)
    planned_units_per_variant: int | None = Field(default=None, ge=2, le=MAX_PLANNED_UNITS)
    population: int | None = Field(default=None, ge=4, le=1_000_000_000)
    attribution_hours: float | None = Field(default=None, gt=0, le=24 * 90)
    test_share: float | None = Field(default=None, gt=0, lt=1)
    baseline_rate: float | None = Field(default=None, gt=0, lt=1)
    baseline_cv: float | None = Field(default=None, gt=0, le=1000)
    planned_from: PlanSource | None = None
    observed_baseline: float | None = Field(default=None, gt=0, le=1000)
    replanned_at: datetime | None = None
    currency: str = Field(default="NOK", pattern=r"^[A-Z]{3}$")
    secondary_correction: Literal["bh", "holm", "none"] = "bh"

    @model_validator(mode="after")
    def _send_needs_a_list(self) -> Design:
        if self.test_share is not None and self.population is None:
            raise ValueError(
                "test_share needs population: the list size the test share is taken from"
            )
        return self


PlanSource = Literal["design", "list", "assumption", "observed"]
"""Where the planned units come from: given in the design, the list of a send, the design's
baseline assumption (re-planned once from the observed baseline after the burn-in), or that
observed baseline (frozen for good)."""


Margin = Annotated[float, Field(gt=0, lt=1)]
Percentile = Annotated[float, Field(ge=50, lt=100)]


class MetricSelection(_Strict):
    """The experiment's metrics by role.

    `guardrail_margins` maps a guardrail to a relative non-inferiority margin (0.02: a loss of
    up to 2 % is tolerated). With one, each margin question is a one-sided sequential test at
    the design's alpha: the guardrail is harmed (the verdict stops) only when its one-sided
    bound on the bad side lies beyond a 2 % loss, a loss shown but within 2 % is tolerated, and
    a better variant ships only once its one-sided bound on the good side rules out a loss over
    2 % (docs/results.md). Without one, any loss its two-sided interval shows harms it.
    `cap_percentiles` caps a metric's per-unit value at that percentile (50 <= p < 100) of the
    experiment's units with a value; a new definition takes only `MIN_CAP_PERCENTILE` <= p < 100
    (`check_new_caps`), while experiments stored with a lower cap are still read.
    """

    primary: Slug
    secondary: list[Slug] = Field(default_factory=list, max_length=20)
    guardrails: list[Slug] = Field(default_factory=list, max_length=20)
    guardrail_margins: dict[Slug, Margin] = Field(default_factory=dict)
    cap_percentiles: dict[Slug, Percentile] = Field(default_factory=dict)

    @field_validator("guardrail_margins")
    @classmethod
    def _margins_belong_to_guardrails(
        cls, margins: dict[str, float], info: ValidationInfo
    ) -> dict[str, float]:
        guardrails = info.data.get("guardrails", [])
        for key in margins:
            if key not in guardrails:
                raise ValueError(f"'{key}' is not one of the guardrails; a margin belongs to one")
        return margins

    @field_validator("cap_percentiles")
    @classmethod
    def _caps_belong_to_metrics(
        cls, percentiles: dict[str, float], info: ValidationInfo
    ) -> dict[str, float]:
        selected = [
            info.data.get("primary"),
            *info.data.get("secondary", []),
            *info.data.get("guardrails", []),
        ]
        for key in percentiles:
            if key not in selected:
                raise ValueError(f"'{key}' is not a metric of this experiment")
        return percentiles

    def check_new_caps(self, stored: Mapping[str, float] | None = None) -> None:
        """Raise InvalidInputError (422, naming `metrics.cap_percentiles.<metric>`) for a cap
        below `MIN_CAP_PERCENTILE` that is not one of the `stored` caps (those are kept, so a
        client may send back what it read): its interval is about values so capped that an
        effect on large orders goes unseen."""
        kept = stored or {}
        for key, percentile in self.cap_percentiles.items():
            if percentile < MIN_CAP_PERCENTILE and kept.get(key) != percentile:
                raise InvalidInputError(
                    f"metrics.cap_percentiles.{key}",
                    f"must be at least {MIN_CAP_PERCENTILE:g} (it is {percentile:g}): below "
                    "that percentile the interval is about values so capped that an effect on "
                    f"large orders goes unseen; use {MIN_CAP_PERCENTILE:g} <= p < 100, or a "
                    "fixed cap on the metric",
                )


Variants = Annotated[list[Variant], Field(min_length=2, max_length=10)]
Overrides = Annotated[
    dict[Annotated[SafeText, StringConstraints(min_length=1, max_length=MAX_UNIT_ID_LENGTH)], Slug],
    Field(max_length=MAX_OVERRIDES),
]


class ExperimentCreate(_Strict):
    key: ExperimentKey
    name: Name
    hypothesis: Hypothesis = ""
    template: Template | None = None
    unit_type: UnitType | None = None
    variants: Variants
    traffic: Traffic = 1.0
    targeting: Targeting | None = None
    layer: Slug | None = None
    overrides: Overrides = Field(default_factory=dict)
    design: Design = Field(default_factory=Design)
    metrics: MetricSelection | None = None
    dimensions: Dimensions | None = None  # default: the template's, else none
    type: ExperimentType = "ab"
    bandit: BanditSettings | None = None  # a bandit's default: `BanditSettings()`
    sticky: StrictBool | None = None  # default: true for a bandit, false otherwise
    sticky_version: StickyVersion = 1


class ExperimentUpdate(_Strict):
    """A partial update: only the fields sent change, and only `targeting` and `layer` may be
    sent as null (to remove them). What a started experiment refuses, and why, is
    `lifecycle.FROZEN_AFTER_START` (`dimensions` are not in it: they may change while the
    experiment runs); `lifecycle.check_update` adds the traffic rules (it may only grow while
    running, and not change once stopped) and that an archived experiment takes no change."""

    name: Name | None = None
    hypothesis: Hypothesis | None = None
    unit_type: UnitType | None = None
    variants: Variants | None = None
    traffic: Traffic | None = None
    targeting: Targeting | None = None
    layer: Slug | None = None
    overrides: Overrides | None = None
    design: Design | None = None
    metrics: MetricSelection | None = None
    dimensions: Dimensions | None = None
    type: ExperimentType | None = None
    bandit: BanditSettings | None = None
    sticky: StrictBool | None = None
    sticky_version: StickyVersion | None = None


class StopRequest(_Strict):
    winner: Slug | None = None


class Experiment(SQLModel, table=True):
    __tablename__ = "experiments"

    id: int | None = SQLField(default=None, primary_key=True)
    key: str = SQLField(max_length=64, unique=True)
    salt: str = SQLField(max_length=32)
    name: str = SQLField(max_length=200)
    hypothesis: str = ""
    unit_type: str = SQLField(max_length=32)
    variants: list[dict[str, Any]] = SQLField(sa_column=Column(JSON, nullable=False))
    traffic: float = 1.0
    targeting: dict[str, Any] | None = SQLField(default=None, sa_column=Column(JSON))
    layer: str | None = SQLField(default=None, max_length=64, index=True)
    layer_ranges: list[list[int]] = SQLField(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    overrides: dict[str, str] = SQLField(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
    # Read back as their models (stored as their JSON dumps), so no caller re-validates them.
    design: Design = SQLField(sa_column=Column(ModelJSON(Design), nullable=False))
    metrics: MetricSelection = SQLField(
        sa_column=Column(ModelJSON(MetricSelection), nullable=False)
    )
    dimensions: list[str] = SQLField(
        default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]")
    )
    type: str = SQLField(default="ab", max_length=16, sa_column_kwargs={"server_default": "ab"})
    bandit: BanditSettings | None = SQLField(
        default=None, sa_column=Column(ModelJSON(BanditSettings), nullable=True)
    )
    sticky: bool = SQLField(default=False, sa_column_kwargs={"server_default": false()})
    sticky_version: int = SQLField(default=1, sa_column_kwargs={"server_default": "1"})
    status: str = SQLField(default=ExperimentStatus.DRAFT.value, max_length=16, index=True)
    winner: str | None = SQLField(default=None, max_length=64)
    created_at: datetime = SQLField(sa_type=UTCDateTime)
    updated_at: datetime = SQLField(sa_type=UTCDateTime)
    started_at: datetime | None = SQLField(default=None, sa_type=UTCDateTime)
    stopped_at: datetime | None = SQLField(default=None, sa_type=UTCDateTime)

    def variant_keys(self) -> list[str]:
        return [str(variant["key"]) for variant in self.variants]
