"""Verdicts under effects that change over time, guardrail margins, and the guardrails' share of
the verdict's false actions: figures for docs/statistics.md ("Effects that change over time").

Run from the repository root: python -m benchmarks.sim_changing_effects [--runs 1000]
[--part changing|margins|guardrails]. Conversion at 2.5 %, 30 daily looks, the plan 122,929 per
arm, every look through analyse_metric, the running readings and decide. Seeded, so the
figures are reproducible; each share comes with its Monte Carlo standard error.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import time

from benchmarks.look_simulations import (
    Guardrail,
    Scenario,
    change_aversion,
    novelty,
    share,
    simulate,
    weekend,
)
from experiments.results.types import Verdict

MARGIN = 0.02


def _pct(value: float, runs: int) -> str:
    se = math.sqrt(max(value * (1 - value), 0.25 / runs) / runs)
    return f"{100 * value:.1f} % ± {100 * se:.1f}"


def changing(runs: int) -> None:
    print(
        "| effect over time | simultaneous coverage of the reported interval | verdict "
        "contradicts its interval (any look) | ever significant | flagged changing (any "
        "look) | ship at some look | ship at day 30 | stop at some look |"
    )
    print("|---|---|---|---|---|---|---|---|")
    lifts, traffic = weekend(0.25)
    scenarios = [
        Scenario("A/A", novelty(0.0, 0)),
        Scenario("constant +10 %", novelty(0.10, 30)),
        Scenario("novelty +50 % days 1-3, then 0", novelty(0.50, 3)),
        Scenario("novelty +30 % days 1-5, then 0", novelty(0.30, 5)),
        Scenario("change aversion −15 % days 1-7, then +5 %", change_aversion(-0.15, 7, 0.05)),
        Scenario("+25 % on weekends (traffic ×1.5)", lifts, traffic),
    ]
    for seed, scenario in enumerate(scenarios):
        found = simulate(scenario, runs, 500 + seed)
        contradicted = share([run.contradictions > 0 for run in found])
        print(
            f"| {scenario.name} | {_pct(share([r.covered for r in found]), runs)} "
            f"| {_pct(contradicted, runs)} "
            f"| {_pct(share([r.significant[-1] for r in found]), runs)} "
            f"| {_pct(share([any(r.changing) for r in found]), runs)} "
            f"| {_pct(share([Verdict.SHIP in r.verdicts for r in found]), runs)} "
            f"| {_pct(share([r.verdicts[-1] is Verdict.SHIP for r in found]), runs)} "
            f"| {_pct(share([Verdict.STOP in r.verdicts for r in found]), runs)} |",
            flush=True,
        )


def margins(runs: int) -> None:
    print("Primary conversion +10 %; guardrail add_to_cart_rate (30 %) with a 2 % margin.")
    print("The plan (122,929 per arm) is reached on day 7 at 20,000 a day, day 31 at 4,000.")
    print("Each margin question is a one-sided test at level 0.05 (docs/results.md).")
    print(
        "| true guardrail change, traffic per arm per day | days | stop at some look, by day "
        "7 / 14 / 31 / last | guardrail harmed, by day 7 / 14 / 31 / last | 80 % harmed by "
        "day | loss over the margin ruled out at some look | ship at some look |"
    )
    print("|---|---|---|---|---|---|---|")
    for seed, (change, per_day, days) in enumerate(
        (
            (-0.01, 20_000, 30),
            (-0.04, 20_000, 30),
            (-0.04, 4_000, 60),
            (-0.02, 20_000, 30),
            (-0.02, 4_000, 60),
        )
    ):
        guardrail = Guardrail("add_to_cart_rate", 0.30, change, MARGIN)
        scenario = Scenario(
            f"{change:+.0%}",
            novelty(0.10, days, days),
            guardrails=(guardrail,),
            units_per_day=per_day,
        )
        found = simulate(scenario, runs, 600 + seed)
        ends = (7, 14, 31, days)
        stops = " / ".join(
            _pct(share([Verdict.STOP in r.verdicts[:end] for r in found]), runs) for end in ends
        )
        harmed = " / ".join(_pct(share([any(r.harmed[:end]) for r in found]), runs) for end in ends)
        first = [next((d + 1 for d, h in enumerate(r.harmed) if h), None) for r in found]
        reach = _day_reached(first, 0.8)
        ruled_out = _pct(share([any(r.ruled_out) for r in found]), runs)
        shipped = _pct(share([Verdict.SHIP in r.verdicts for r in found]), runs)
        print(
            f"| {change:+.0%}, {per_day:,} | {days} | {stops} | {harmed} | {reach} "
            f"| {ruled_out} | {shipped} |",
            flush=True,
        )


def _day_reached(first: list[int | None], level: float) -> int | None:
    days = sorted(day for day in first if day is not None)
    needed = math.ceil(level * len(first))
    return days[needed - 1] if len(days) >= needed else None


def guardrails(runs: int) -> None:
    print(
        "A/A, conversion primary; guardrails refund_rate (0.5 %) and add_to_cart_rate (8 %), "
        "drawn independently; 31 daily looks."
    )
    print("| guardrails | ship at some look | stop at some look | ship or stop (false action) |")
    print("|---|---|---|---|")
    family = (Guardrail("refund_rate", 0.005, 0.0), Guardrail("add_to_cart_rate", 0.08, 0.0))
    for count in range(3):
        scenario = Scenario(f"{count}", novelty(0.0, 0, 31), guardrails=family[:count])
        found = simulate(scenario, runs, 700 + count)
        ship = share([Verdict.SHIP in r.verdicts for r in found])
        stop = share([Verdict.STOP in r.verdicts for r in found])
        either = share([Verdict.SHIP in r.verdicts or Verdict.STOP in r.verdicts for r in found])
        print(
            f"| {count} | {_pct(ship, runs)} | {_pct(stop, runs)} | {_pct(either, runs)} |",
            flush=True,
        )


PARTS = {"changing": changing, "margins": margins, "guardrails": guardrails}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--part", choices=sorted(PARTS), action="append")
    args = parser.parse_args()
    print(f"machine: {platform.machine()} cpus={os.cpu_count()} python={platform.python_version()}")
    for part in args.part or list(PARTS):
        started = time.perf_counter()
        print(f"\n{part}, {args.runs} runs per row")
        PARTS[part](args.runs)
        print(f"elapsed: {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
