"""Bandit campaigns from raw visitors, run through ``stats.bandits`` as the service runs them:
shared by ``python -m benchmarks.sim_bandits`` (the long runs) and tests/stats (seeded small
ones).

A campaign starts on a Monday and lasts ``days`` days. Visitors arrive one by one: each is
assigned an arm by the current weights and clicks with the arm's rate for that day. The visitors
of an update period (a day by default) are the units first exposed in it. The policy is issue
#28's: equal weights for the exploration (the first 24 hours, and until every arm has
``min_units_per_arm`` units), then at the end of every period top-two Thompson sampling with a
floor sets the next period's weights. The winner is called at the first update, after the
exploration, at which an arm's probability of being best reaches ``winner_probability``
(checked once per update, not continuously); a campaign without such a call names the leader
at its planned end. After a call the bandit keeps steering to the end (no ship), so the clicks
lost are those of the bandit itself.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from stats.bandits import (
    ArmEstimate,
    ArmPeriodSums,
    arm_estimates,
    gain_over_equal_split,
    period_srm_p_values,
    probability_best,
    top_two_thompson_weights,
)

FloatArray = npt.NDArray[np.float64]
DayFactors = Callable[[int], float]
"""A multiplier of a day's traffic or click rates, by day index from 0 (a Monday)."""


def weekend_traffic(day: int) -> float:
    """Weekends (days 5 and 6 of each week) at +40 % traffic."""
    return 1.4 if day % 7 >= 5 else 1.0


def steady(_day: int) -> float:
    return 1.0


@dataclass(frozen=True)
class Campaign:
    """True click rates per arm on a steady day, and how traffic and rates move by day."""

    rates: tuple[float, ...]
    days: int = 14
    weekday_visitors: int = 10_000
    traffic: DayFactors = weekend_traffic
    baseline: DayFactors = steady

    def visitors(self, day: int) -> int:
        return round(self.weekday_visitors * self.traffic(day))

    def day_rates(self, day: int) -> FloatArray:
        return np.array(self.rates) * self.baseline(day)


@dataclass(frozen=True)
class Policy:
    """The bandit's settings (issue #28's defaults); ``period_weighted=False`` pools each arm's
    units over the periods instead, the estimate that time-varying traffic breaks."""

    min_units_per_arm: int = 100
    floor: float = 0.01
    winner_probability: float = 0.95
    draws: int = 10_000
    period_weighted: bool = True
    leader_share: float = 0.5
    updates_per_day: int = 1
    """Update periods per day (1: daily, the default; 24: hourly, the issue's most frequent)."""


@dataclass
class Outcome:
    """One campaign: the call, the clicks lost against always showing the best arm (expected,
    from the true rates, for the bandit and for an equal split of the same visitors), the
    estimated and the true gain over an equal split, and each period's SRM p-value."""

    called_day: float | None
    """When the 95 % rule called a winner, in days from the start (at the end of an update)."""
    called_arm: int
    lost: float
    lost_equal_split: float
    lost_if_shipped: float
    """Clicks lost had the called arm been shipped to every visitor from the day after the call."""
    gain_estimate: float
    gain_standard_error: float
    true_gain: float
    srm_p_values: list[float] = field(default_factory=list)
    weights: list[list[float]] = field(default_factory=list)


def _estimates(periods: Sequence[Sequence[ArmPeriodSums]], policy: Policy) -> list[ArmEstimate]:
    if policy.period_weighted:
        return arm_estimates(periods)
    pooled = [sum(cells[1:], cells[0]) for cells in zip(*periods, strict=True)]
    return arm_estimates([pooled])


def run_campaign(campaign: Campaign, policy: Policy, seed: int) -> Outcome:
    """One campaign from raw visitors; the seed drives the visitors and the Monte Carlo draws."""
    rng = np.random.default_rng(seed)
    arms = len(campaign.rates)
    per_day = policy.updates_per_day
    weights = np.full(arms, 1.0 / arms)
    periods: list[list[ArmPeriodSums]] = []
    history: list[list[float]] = []
    lost: list[float] = []
    shortfalls: list[FloatArray] = []
    lost_equal = true_gain = 0.0
    called_at: int | None = None
    called_arm = -1
    for period in range(campaign.days * per_day):
        day = period // per_day
        rates = campaign.day_rates(day)
        visitors = round(campaign.visitors(day) / per_day)
        assigned = rng.choice(arms, size=visitors, p=weights)
        clicked = rng.random(visitors) < rates[assigned]
        units = np.bincount(assigned, minlength=arms)
        clicks = np.bincount(assigned, weights=clicked, minlength=arms)
        periods.append(
            [ArmPeriodSums(int(n), float(c), float(c)) for n, c in zip(units, clicks, strict=True)]
        )
        history.append([float(w) for w in weights])
        shortfall = rates.max() - rates
        lost.append(float(units @ shortfall))
        shortfalls.append(shortfall * visitors)
        lost_equal += visitors * float(shortfall.mean())
        true_gain += float(units @ rates) - visitors * float(rates.mean())

        explored = period + 1 >= per_day and all(
            sum(p[a].units for p in periods) >= policy.min_units_per_arm for a in range(arms)
        )
        if not explored:
            continue
        estimates = _estimates(periods, policy)
        look_seed = seed * 1000 + period
        chances = probability_best(estimates, draws=policy.draws, seed=look_seed)
        leader = int(np.argmax(chances))
        if called_at is None and chances[leader] >= policy.winner_probability:
            called_at, called_arm = period + 1, leader
        if called_at is None:
            called_arm = leader  # the leader at the planned end, after the last update
        weights = np.array(
            top_two_thompson_weights(
                estimates,
                floor=policy.floor,
                draws=policy.draws,
                seed=look_seed,
                leader_share=policy.leader_share,
            )
        )
    gain = gain_over_equal_split(periods)
    shipped_from = len(periods) if called_at is None else called_at
    lost_if_shipped = sum(lost[:shipped_from]) + sum(
        float(everyone[called_arm]) for everyone in shortfalls[shipped_from:]
    )
    return Outcome(
        called_day=None if called_at is None else called_at / per_day,
        called_arm=called_arm,
        lost=sum(lost),
        lost_equal_split=lost_equal,
        lost_if_shipped=lost_if_shipped,
        gain_estimate=gain.extra,
        gain_standard_error=gain.standard_error,
        true_gain=true_gain,
        srm_p_values=period_srm_p_values([[c.units for c in p] for p in periods], history),
        weights=history,
    )


@dataclass(frozen=True)
class Summary:
    """Shares over ``runs`` campaigns; ``best_arm`` is the truly best arm (-1 when no arm is
    better than the others, so that every call is a wrong one)."""

    runs: int
    called: float
    """Campaigns in which the 95 % rule called a winner."""
    called_wrong: float
    """Campaigns in which the 95 % rule called an arm that is not the best."""
    found: float
    """Campaigns whose called arm (by the rule, or the leader at the planned end) is the best."""
    fewer_clicks_lost: float
    """Mean over campaigns of 1 - (clicks the bandit lost) / (clicks an equal split lost)."""
    fewer_clicks_lost_se: float
    fewer_clicks_lost_if_shipped: float
    """The same had the called arm been shipped to every visitor from the day after the call."""
    gain_coverage: float
    """Campaigns whose gain estimate +- 1.96 standard errors covers the true gain."""
    srm_flagged: float
    """Periods whose SRM p-value is below 0.001."""
    median_call_day: float | None

    def standard_error(self, share: float) -> float:
        """Binomial standard error of a share of campaigns (at least that of 0.5 / runs)."""
        return math.sqrt(max(share * (1 - share), 0.25 / self.runs) / self.runs)


def _fewer_lost(outcomes: Sequence[Outcome], shipped: bool) -> FloatArray:
    return np.array(
        [
            1 - (o.lost_if_shipped if shipped else o.lost) / o.lost_equal_split
            for o in outcomes
            if o.lost_equal_split > 0
        ]
    )


def summarise(outcomes: Sequence[Outcome], best_arm: int) -> Summary:
    runs = len(outcomes)
    called = [o for o in outcomes if o.called_day is not None]
    covered = [abs(o.gain_estimate - o.true_gain) <= 1.96 * o.gain_standard_error for o in outcomes]
    srm = [p for o in outcomes for p in o.srm_p_values]
    fewer, fewer_shipped = _fewer_lost(outcomes, False), _fewer_lost(outcomes, True)
    return Summary(
        runs=runs,
        called=len(called) / runs,
        called_wrong=sum(o.called_arm != best_arm for o in called) / runs,
        found=sum(o.called_arm == best_arm for o in outcomes) / runs,
        fewer_clicks_lost=float(fewer.mean()) if fewer.size else math.nan,
        fewer_clicks_lost_se=float(fewer.std(ddof=1) / math.sqrt(fewer.size))
        if fewer.size > 1
        else math.nan,
        fewer_clicks_lost_if_shipped=float(fewer_shipped.mean()) if fewer.size else math.nan,
        gain_coverage=sum(covered) / runs,
        srm_flagged=sum(p < 0.001 for p in srm) / len(srm),
        median_call_day=float(np.median([o.called_day for o in called])) if called else None,
    )


def simulate(campaign: Campaign, policy: Policy, runs: int, seed: int) -> list[Outcome]:
    return [run_campaign(campaign, policy, seed * 100_000 + run) for run in range(runs)]
