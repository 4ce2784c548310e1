"""Bandit campaigns from raw visitors (issue #28 item 5) and the cost of one bandit update:
figures for docs/statistics.md ("Bandits") and docs/benchmarks.md.

Run from the repository root:
    python -m benchmarks.sim_bandits [--runs 1000] [--seed 28] [--part campaigns|timing]
A 14-day campaign from a Monday, 10,000 visitors a weekday and 14,000 a weekend day, daily
updates, the issue's policy (``benchmarks.bandit_simulations``). Seeded, so the figures are
reproducible; each share comes with its binomial standard error. Scenarios:
- five arms, four at 3 % CTR and one at 3.6 % (+20 %), and the same with four arms (three at
  3 %), and the five arms with the leader chosen in 75 % of top-two draws instead of 50 %;
- A/A, four arms at 3 %;
- A/A, four arms, with traffic and click rates that move: both grow over the campaign (a sale
  building up: rates from 0.5x to 1.5x, traffic from 1x to 2x) and weekends click 30 % more;
  run with period-weighted estimates and, on the same seeds, with each arm's units pooled.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from benchmarks.bandit_simulations import (
    Campaign,
    Policy,
    Summary,
    simulate,
    summarise,
    weekend_traffic,
)
from stats.bandits import (
    ArmPeriodSums,
    arm_estimates,
    probability_best,
    top_two_thompson_weights,
)

BASE = 0.03


def building_rates(day: int) -> float:
    """Click rates from 0.5x to 1.5x over 14 days, weekends 30 % above their weekdays."""
    return (1.3 if day % 7 >= 5 else 1.0) * (0.5 + day / 13)


def building_traffic(day: int) -> float:
    """Weekends at +40 %, and traffic from 1x to 2x over 14 days."""
    return weekend_traffic(day) * (1 + day / 13)


def _pct(share: float, summary: Summary) -> str:
    return f"{100 * share:.1f} % ± {100 * summary.standard_error(share):.1f}"


def campaigns(runs: int, seed: int) -> None:
    lifted = (BASE,) * 4 + (BASE * 1.2,)
    building = Campaign((BASE,) * 4, traffic=building_traffic, baseline=building_rates)
    scenarios = [
        ("five arms, one +20 %", Campaign(lifted), 4, Policy()),
        ("four arms, one +20 %", Campaign(lifted[1:]), 3, Policy()),
        ("five arms, one +20 %, leader share 0.75", Campaign(lifted), 4, Policy(leader_share=0.75)),
        ("A/A, four arms", Campaign((BASE,) * 4), -1, Policy()),
        ("A/A, four arms, moving traffic and rates", building, -1, Policy()),
        (
            "the same, each arm's units pooled (unweighted)",
            building,
            -1,
            Policy(period_weighted=False),
        ),
    ]
    print(f"{runs} campaigns per scenario; load average {os.getloadavg()[0]:.1f} at the start.")
    print(
        "| scenario | winner called (95 % rule) | wrong arm called | best arm found (call or "
        "leader at day 14) | median day of the call | fewer clicks lost than an equal split | "
        "the same, the call shipped | gain estimate's 95 % interval covers | periods with "
        "SRM p < 0.001 |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for index, (name, campaign, best, policy) in enumerate(scenarios):
        started = time.perf_counter()
        s = summarise(simulate(campaign, policy, runs, seed + index), best)
        fewer = (
            f"{100 * s.fewer_clicks_lost:.1f} % ± {100 * s.fewer_clicks_lost_se:.1f}"
            if best >= 0
            else "–"
        )
        shipped = f"{100 * s.fewer_clicks_lost_if_shipped:.1f} %" if best >= 0 else "–"
        found = _pct(s.found, s) if best >= 0 else "–"
        day = f"{s.median_call_day:g}" if s.median_call_day is not None else "–"
        print(
            f"| {name} | {_pct(s.called, s)} | {_pct(s.called_wrong, s)} | {found} | {day} "
            f"| {fewer} | {shipped} | {_pct(s.gain_coverage, s)} | {100 * s.srm_flagged:.2f} % |"
            f" <!-- {time.perf_counter() - started:.0f} s -->",
            flush=True,
        )


def _median_ms(action: object, repeats: int) -> float:
    assert callable(action)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return 1000 * statistics.median(times)


def timing(repeats: int = 30) -> None:
    """One update of a 10-arm bandit after 14 daily periods, 10,000 draws, median of runs."""
    periods = [
        [ArmPeriodSums(1000 + 10 * arm, 30.0 + arm, 30.0 + arm) for arm in range(10)]
        for _ in range(14)
    ]
    estimates = arm_estimates(periods)
    parts = {
        "arm_estimates (14 periods x 10 arms)": lambda: arm_estimates(periods),
        "probability_best (10 arms, 10,000 draws)": lambda: probability_best(
            estimates, draws=10_000, seed=1
        ),
        "top_two_thompson_weights (10 arms, 10,000 draws)": lambda: top_two_thompson_weights(
            estimates, floor=0.01, draws=10_000, seed=1
        ),
    }
    print(f"Median of {repeats} runs; load average {os.getloadavg()[0]:.1f}.")
    print("| step | ms |")
    print("|---|---|")
    total = 0.0
    for name, action in parts.items():
        median = _median_ms(action, repeats)
        total += median
        print(f"| {name} | {median:.2f} |")
    print(f"| one update (the three) | {total:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=28)
    parser.add_argument("--part", choices=["campaigns", "timing"])
    args = parser.parse_args()
    if args.part in (None, "timing"):
        timing()
    if args.part in (None, "campaigns"):
        campaigns(args.runs, args.seed)


if __name__ == "__main__":
    main()
