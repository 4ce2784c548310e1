"""Bandit campaigns from raw visitors (issue #28 item 5) and the cost of one bandit update:
figures for docs/statistics.md ("Bandits") and docs/benchmarks.md.

Run from the repository root:
    python -m benchmarks.sim_bandits [--runs 1000] [--seed 28] [--part campaigns|frequent|timing]
A 14-day campaign from a Monday, 10,000 visitors a weekday and 14,000 a weekend day, daily
updates, the issue's policy (``benchmarks.bandit_simulations``). Seeded, so the figures are
reproducible; each share comes with its binomial standard error. Scenarios:
- five arms, four at 3 % CTR and one at 3.6 % (+20 %), and the same with four arms (three at
  3 %), and the five arms with the leader chosen in 75 % of top-two draws instead of 50 %;
- A/A, four arms at 3 %;
- A/A, four arms, with traffic and click rates that move: both grow over the campaign (a sale
  building up: rates from 0.5x to 1.5x, traffic from 1x to 2x) and weekends click 30 % more;
  run with period-weighted estimates and, on the same seeds, with each arm's units pooled;
- ``--part frequent``: the A/A campaigns with an update every 6 hours (56 looks, not 14).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

import numpy as np

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
    # (name, campaign, the best arm or -1, policy, seed offset): the pooled row runs on the
    # seeds of the period-weighted row before it.
    scenarios = [
        ("five arms, one +20 %", Campaign(lifted), 4, Policy(), 0),
        ("four arms, one +20 %", Campaign(lifted[1:]), 3, Policy(), 1),
        (
            "five arms, one +20 %, leader share 0.75",
            Campaign(lifted),
            4,
            Policy(leader_share=0.75),
            2,
        ),
        ("A/A, four arms", Campaign((BASE,) * 4), -1, Policy(), 3),
        ("A/A, four arms, moving traffic and rates", building, -1, Policy(), 4),
        ("the same, each arm's units pooled", building, -1, Policy(period_weighted=False), 4),
    ]
    print(f"{runs} campaigns per scenario; load average {os.getloadavg()[0]:.1f} at the start.")
    print(
        "| scenario | winner called (95 % rule) | wrong arm called | best arm found (call or "
        "leader at day 14) | median day of the call | fewer clicks lost than an equal split | "
        "the same, the call shipped | gain estimate's 95 % interval covers | periods with "
        "SRM p < 0.001 |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    started = time.perf_counter()
    for name, campaign, best, policy, offset in scenarios:
        s = summarise(simulate(campaign, policy, runs, seed + offset), best)
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
            f"| {fewer} | {shipped} | {_pct(s.gain_coverage, s)} | {100 * s.srm_flagged:.2f} % |",
            flush=True,
        )
    print(f"{time.perf_counter() - started:.0f} s")


def frequent(runs: int, seed: int) -> None:
    """A/A with more looks: the 95 % rule is checked at every update."""
    print(f"{runs} campaigns per row; load average {os.getloadavg()[0]:.1f} at the start.")
    print(
        "| A/A, four arms at 3 % | updates | winner called (95 % rule) | median day of the call |"
    )
    print("|---|---|---|---|")
    for per_day in (1, 4):
        s = summarise(
            simulate(Campaign((BASE,) * 4), Policy(updates_per_day=per_day), runs, seed), -1
        )
        day = f"{s.median_call_day:g}" if s.median_call_day is not None else "–"
        print(
            f"| weekends +40 % | every {24 // per_day} h ({14 * per_day} looks) "
            f"| {_pct(s.called, s)} | {day} |",
            flush=True,
        )


def _median_ms(action: Callable[[], object], repeats: int) -> tuple[float, float]:
    """Median wall-clock and CPU milliseconds of ``repeats`` calls (the machine is shared: the
    CPU time is what the call costs, the wall time what a caller waited)."""
    wall, cpu = [], []
    for _ in range(repeats):
        started, started_cpu = time.perf_counter(), time.process_time()
        action()
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    return 1000 * statistics.median(wall), 1000 * statistics.median(cpu)


def timing(repeats: int = 30) -> None:
    """One update of a 10-arm bandit after 14 daily periods, 10,000 draws, median of runs."""
    periods = [
        [ArmPeriodSums(1000 + 10 * arm, 30.0 + arm, 30.0 + arm) for arm in range(10)]
        for _ in range(14)
    ]
    estimates = arm_estimates(periods)
    parts: dict[str, Callable[[], object]] = {
        "arm_estimates (14 periods x 10 arms)": lambda: arm_estimates(periods),
        "probability_best (10 arms, 10,000 draws)": lambda: probability_best(
            estimates, draws=10_000, seed=1
        ),
        "top_two_thompson_weights (10 arms, 10,000 draws)": lambda: top_two_thompson_weights(
            estimates, floor=0.01, draws=10_000, seed=1
        ),
    }
    print(f"Median of {repeats} runs; load average {os.getloadavg()[0]:.1f}.")
    print("| step | wall ms | CPU ms |")
    print("|---|---|---|")
    wall_total = cpu_total = 0.0
    for name, action in parts.items():
        wall, cpu = _median_ms(action, repeats)
        wall_total, cpu_total = wall_total + wall, cpu_total + cpu
        print(f"| {name} | {wall:.2f} | {cpu:.2f} |")
    print(f"| one update (the three) | {wall_total:.2f} | {cpu_total:.2f} |")
    wall, cpu = _median_ms(lambda: np.random.default_rng(1).standard_normal((10_000, 10)), repeats)
    print(f"| comparison: numpy's 10,000 x 10 normal draws alone | {wall:.2f} | {cpu:.2f} |")
    ratios = f"{wall_total / wall:.1f}x | {cpu_total / cpu:.1f}x"
    print(f"| ratio: one update / the draws alone | {ratios} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=28)
    parser.add_argument("--part", choices=["campaigns", "frequent", "timing"])
    args = parser.parse_args()
    if args.part in (None, "timing"):
        timing()
    if args.part in (None, "campaigns"):
        campaigns(args.runs, args.seed)
    if args.part in (None, "frequent"):
        frequent(args.runs, args.seed + 10)


if __name__ == "__main__":
    main()
