"""A bandit's reading at one look: arms estimated from period-weighted means, their probability
of being best, the per-period sample ratio checks, and whether this look steers.

Each unit belongs to the update period of its first exposure (`sums.periods`). Within a period
every arm was served one set of weights, so the arms' means there compare like with like; the
look weights each period's arm mean by that period's share of all units (`stats.bandits`), which
keeps a weekday whose traffic went mostly to one arm from biasing it (Simpson's paradox). The
Monte Carlo draws are seeded from the experiment's salt and the look's end, so a look is
reproduced from what it stores.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta

from experiments.bandit_periods import served_shares
from experiments.models.bandit import BanditSettings
from experiments.results.bandit_types import ArmReading, BanditReading, Gain, PeriodReading
from experiments.results.look_inputs import LookInputs, SteeredPeriod
from experiments.results.sums.groups import ZERO_SUMS, Aggregates, GroupKey
from stats.bandits import (
    ArmPeriodSums,
    arm_estimates,
    gain_over_equal_split,
    period_srm_p_values,
    probability_best,
    top_two_thompson_weights,
)
from stats.srm import SRM_THRESHOLD

DRAWS = 10_000
"""Monte Carlo draws per look, for the probability of being best and for the new weights."""


def look_seed(salt: str, end: datetime) -> int:
    """The seed of a look's draws: from the experiment's salt and the look's end (31 bits, so
    any database's integer column stores it)."""
    digest = hashlib.sha256(f"{salt}:{end.isoformat()}".encode()).digest()
    return int.from_bytes(digest[:4], "big") >> 1


def bandit_reading(
    inputs: LookInputs,
    aggregates: Aggregates,
    end: datetime,
    first_exposed_at: datetime | None,
    *,
    steer: bool,
    planned_end: bool,
) -> BanditReading:
    """The bandit's reading at the look ending at `end`; with `steer` (a stored look of a
    running bandit) it also opens the next period when an update is due."""
    settings = inputs.experiment.bandit or BanditSettings()
    variants = inputs.variants
    lower = inputs.primary.direction == "decrease"
    history = [period for period in inputs.periods if period.starts_at <= end] or [
        _equal_period(variants, inputs.experiment.started_at or end)
    ]
    sums = _period_sums(aggregates, variants, inputs.primary.key, len(history))
    seed = look_seed(inputs.experiment.salt, end)
    totals = aggregates.units
    # Every arm needs a unit for an estimate: until then there is none to draw from.
    estimates = arm_estimates(sums) if all(totals.get(v, 0) for v in variants) else None
    chances: list[float | None] = [None] * len(variants)
    if estimates is not None:
        drawn = probability_best(estimates, draws=DRAWS, seed=seed, lower_is_better=lower)
        chances = list(drawn)
    exploration_ends = _exploration_end(settings, first_exposed_at)
    exploring = (
        estimates is None
        or exploration_ends is None
        or end < exploration_ends
        or any(totals.get(variant, 0) < settings.min_units_per_arm for variant in variants)
    )
    update = None
    if steer and estimates is not None and not exploring:
        if end >= history[-1].starts_at + timedelta(hours=settings.update_hours):
            weights = top_two_thompson_weights(
                estimates, floor=settings.floor, draws=DRAWS, seed=seed, lower_is_better=lower
            )
            shares = served_shares(dict(zip(variants, weights, strict=True)))
            update = PeriodReading(
                len(history), end, shares, seed, dict.fromkeys(variants, 0), None
            )
    weights_now = update.weights if update is not None else history[-1].weights
    arms = tuple(
        ArmReading(
            variant,
            totals.get(variant, 0),
            None if estimates is None else estimates[index].mean,
            None if estimates is None else estimates[index].standard_error,
            chances[index],
            float(weights_now.get(variant, 0.0)),
        )
        for index, variant in enumerate(variants)
    )
    periods = _period_readings(history, sums, variants)
    leader = _leader(arms)
    best = max((arm.probability_best or 0.0 for arm in arms), default=0.0)
    called = not exploring and leader is not None
    called = called and (best >= settings.winner_probability or planned_end)
    gain = None if estimates is None else gain_over_equal_split(sums)
    checked = [period.srm_p_value for period in periods if period.srm_p_value is not None]
    return BanditReading(
        metric=inputs.primary.key,
        arms=arms,
        periods=(*periods, *([update] if update is not None else [])),
        seed=seed,
        draws=DRAWS,
        exploring=exploring,
        exploration_ends_at=exploration_ends,
        leader=leader,
        called=called,
        at_planned_end=planned_end and not exploring,
        winner_probability=settings.winner_probability,
        gain=None if gain is None else Gain(gain.extra, gain.standard_error),
        # Bonferroni over the periods: each period is one more chance of a false alarm.
        srm_mismatch=any(p < SRM_THRESHOLD / len(checked) for p in checked),
        update=update,
    )


def _leader(arms: Sequence[ArmReading]) -> str | None:
    """The arm most likely best (None before every arm has a unit)."""
    ranked = [arm for arm in arms if arm.probability_best is not None]
    if not ranked:
        return None
    return max(ranked, key=lambda arm: arm.probability_best or 0.0).variant


def _period_readings(
    history: Sequence[SteeredPeriod], sums: Sequence[Sequence[ArmPeriodSums]], variants: list[str]
) -> tuple[PeriodReading, ...]:
    """Each period with its units per arm and their sample ratio check against its weights
    (None for a period without units yet)."""
    units = [[arm.units for arm in period] for period in sums]
    shares = [[period.weights.get(variant, 0.0) for variant in variants] for period in history]
    srm = period_srm_p_values(units, shares)
    return tuple(
        PeriodReading(
            period.number,
            period.starts_at,
            dict(period.weights),
            period.seed,
            dict(zip(variants, counts, strict=True)),
            p_value if sum(counts) else None,
        )
        for period, counts, p_value in zip(history, units, srm, strict=True)
    )


def _exploration_end(
    settings: BanditSettings, first_exposed_at: datetime | None
) -> datetime | None:
    """When the exploration's time has passed: counted from the first exposure, not the start
    (exposures may be imported); None before any exposure."""
    if first_exposed_at is None:
        return None
    return first_exposed_at + timedelta(hours=settings.exploration_hours)


def _equal_period(variants: Sequence[str], starts_at: datetime) -> SteeredPeriod:
    """The exploration's period of a bandit whose periods are not stored (started before)."""
    share = 1.0 / len(variants)
    return SteeredPeriod(0, starts_at, dict.fromkeys(variants, share), None, None)


def _period_sums(
    aggregates: Aggregates, variants: Sequence[str], metric: str, count: int
) -> list[list[ArmPeriodSums]]:
    """`periods[p][a]`: the decision metric's sums of arm `a` over the units first exposed in
    period `p` (a bandit before its first update has one period: the whole)."""

    def arm_sums(key: GroupKey, whole: bool) -> ArmPeriodSums:
        groups = aggregates.groups if whole else aggregates.periods
        group = groups.get(key)
        sums = ZERO_SUMS if group is None else group.metrics.get(metric, ZERO_SUMS)
        totals = sums.totals
        return ArmPeriodSums(
            units=totals.n, total=totals.numerator_sum, squares=totals.numerator_sum_squares
        )

    if not aggregates.periods:
        return [[arm_sums(GroupKey(variant=v), True) for v in variants]] + [
            [ArmPeriodSums(0, 0.0, 0.0) for _ in variants] for _ in range(count - 1)
        ]
    return [
        [arm_sums(GroupKey(variant=v, period=p), False) for v in variants] for p in range(count)
    ]
