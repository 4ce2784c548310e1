"""The planned units per variant: fixed when the experiment starts, read by every later look.

The plan sizes the sequential test that decides (`stats.sample_size`'s default) and tunes its
mixture, so it must not move with the data: results, the timeseries and every look read the
same figure. When the design gives none, it comes from the design's baseline assumption, never
from the observed data (docs/results.md).
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from experiments.metrics import metric_catalog
from experiments.models.experiment import Design, Experiment, MetricSelection
from experiments.models.metric import MetricDefinition, MetricKind
from experiments.results.send import list_units_per_variant
from stats import StatsInputError, sample_size

# The average shop's purchase conversion (PRODUCT.md).
DEFAULT_BASELINE_RATE = 0.025
# Per-unit standard deviation / mean at that conversion with order values of coefficient of
# variation 1: revenue per visitor sqrt((1 + 1) / 0.025 - 1) = 8.9; a ratio over exposed units
# such as AOV, by the delta method, 1 / sqrt(0.025) = 6.3.
DEFAULT_BASELINE_CV: dict[MetricKind, float] = {"mean": 8.9, "ratio": 6.3}


def planned_units(design: Design, primary: MetricDefinition, variants: int) -> int | None:
    """The design's planned units per variant; for a send to a fixed list, the units each
    variant gets from the list; else the sequential plan at the design's baseline assumption
    (None when no finite plan exists, e.g. a treated rate of 100 % or more)."""
    if design.planned_units_per_variant is not None:
        return design.planned_units_per_variant
    from_list = list_units_per_variant(design, variants)
    if from_list is not None:
        return from_list
    try:
        if primary.kind == "conversion":
            plan = sample_size(
                mde_relative=design.mde_relative,
                baseline_rate=design.baseline_rate or DEFAULT_BASELINE_RATE,
                alpha=design.alpha,
                power=design.power,
                variants=variants,
            )
        else:
            plan = sample_size(
                mde_relative=design.mde_relative,
                baseline_mean=1.0,
                baseline_sd=design.baseline_cv or DEFAULT_BASELINE_CV[primary.kind],
                alpha=design.alpha,
                power=design.power,
                variants=variants,
            )
    except StatsInputError:
        return None
    return max(plan.units_per_variant, 2)


def design_at_start(session: Session, experiment: Experiment) -> dict[str, Any]:
    """The experiment's design JSON with `planned_units_per_variant` filled in, to store at the
    start (unchanged when the user gave one or no finite plan exists)."""
    design = Design.model_validate(experiment.design)
    if design.planned_units_per_variant is not None:
        return dict(experiment.design)
    primary = metric_catalog(session)[MetricSelection.model_validate(experiment.metrics).primary]
    planned = planned_units(design, primary, len(experiment.variants))
    return {**experiment.design, "planned_units_per_variant": planned}
