"""The rules a bandit's definition keeps beyond its fields' own (`models.bandit`): one decision
metric that is a conversion rate or a mean, a floor the arms can all keep, and weights that are
the bandit's to change once it steers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from experiments.errors import ConflictError, InvalidInputError
from experiments.models.bandit import BanditSettings
from experiments.models.experiment import Experiment, ExperimentStatus, Variant
from experiments.models.metric import MetricDefinition
from stats.bandits import floor_is_feasible

STEERABLE_KINDS = ("conversion", "mean")
"""The kinds of decision metric a bandit steers by: a per-unit mean, which period-weighted
means estimate (a ratio of two sums has no per-unit mean to weight)."""


TWO_ARM_WINNER_PROBABILITY = 0.998
"""The leader threshold of a two-arm bandit that names none. At 0.95, two equal arms called a
winner in 40 % of simulated 14-day campaigns with daily looks (one arm beats only one other, so
each look is a 10 % two-sided test); at 0.998 in 4.4 % (docs/statistics.md, "Bandits")."""


def settings_for(kind: str, given: BanditSettings | None, arms: int) -> BanditSettings | None:
    """The settings an experiment of `kind` with `arms` arms stores: a bandit's (the defaults
    when none are given; a two-arm bandit's leader threshold is `TWO_ARM_WINNER_PROBABILITY`
    unless it names one), none for an A/B test."""
    if kind != "bandit":
        return None
    settings = given or BanditSettings()
    if arms == 2 and "winner_probability" not in settings.model_fields_set:
        return settings.model_copy(update={"winner_probability": TWO_ARM_WINNER_PROBABILITY})
    return settings


def check_bandit(
    kind: str,
    given: BanditSettings | None,
    primary: MetricDefinition,
    arms: int,
) -> None:
    """Raise InvalidInputError naming the field whose rule a definition of `kind` with these
    `given` settings, decision metric `primary` and `arms` breaks."""
    if kind != "bandit":
        if given is not None:
            raise InvalidInputError(
                "bandit", 'is only for a bandit experiment: send "type": "bandit" with it'
            )
        return
    if primary.kind not in STEERABLE_KINDS:
        raise InvalidInputError(
            "metrics.primary",
            f"'{primary.key}' is a {primary.kind} metric: a bandit steers by one decision "
            "metric that is a conversion rate or a mean (period-weighted means need a value "
            "per unit); make it a secondary metric or a guardrail",
        )
    settings = settings_for(kind, given, arms) or BanditSettings()
    if not floor_is_feasible(settings.floor, arms):
        raise InvalidInputError(
            "bandit.floor",
            f"is {settings.floor:g} for {arms} arms: every arm keeps at least the floor, so "
            f"floor x arms must be at most 1 (here at most {1 / arms:.4g})",
        )


def check_weights_kept(experiment: Experiment, sent: Sequence[Variant] | None) -> None:
    """Raise ConflictError naming `variants[i].weight` when a running bandit is sent a weight
    other than the one it steered to: its weights are the bandit's to change."""
    if sent is None or experiment.type != "bandit":
        return
    if experiment.status != ExperimentStatus.RUNNING:
        return
    for index, (stored, variant) in enumerate(zip(experiment.variants, sent, strict=False)):
        if float(stored["weight"]) != variant.weight:
            raise ConflictError(
                f"variants[{index}].weight cannot be edited by hand while the bandit steers "
                f"(it is {float(stored['weight']):g}): the bandit sets the weights at each "
                "update; stop the experiment to choose the split yourself"
            )


def equal_weights(variants: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The variants with equal weights, as a bandit starts (its exploration)."""
    share = round(1.0 / len(variants), 6)
    return [{**variant, "weight": share} for variant in variants]
