"""A holdout in words: its summary sentence and what its share can detect (docs/experiments.md,
"Holdouts")."""

from __future__ import annotations

from datetime import datetime

from experiments.holdout_power import PowerFacts
from experiments.results.page import IntervalReading, SrmPage
from experiments.results.words.formatting import count, day, in_sentence, p_value, percent, plural


def holdout_summary(
    shipped: int,
    began_at: datetime,
    as_of: datetime,
    metric_name: str,
    effect: IntervalReading | None,
    confidence: float,
) -> str:
    """'The 7 experiments shipped since March added +3.1 % revenue per visitor (95 % CI +0.4 %
    to +5.9 %).' The interval is the sequential one, valid at any look."""
    since = f"{began_at:%B}" if began_at.year == as_of.year else f"{began_at:%B %Y}"
    name = in_sentence(metric_name)
    lead = f"The {plural(shipped, 'experiment')} shipped since {since}"
    if effect is None or effect.estimate is None:
        return f"{lead}: no reading of {name} yet (the groups have too few units or values)."
    level = percent(confidence)
    interval = f"{level} CI not bounded yet"
    if effect.ci_low is not None and effect.ci_high is not None:
        low, high = percent(effect.ci_low, signed=True), percent(effect.ci_high, signed=True)
        interval = f"{level} CI {low} to {high}"
    change = percent(effect.estimate, signed=True)
    verb = f"added {change}" if effect.estimate >= 0 else f"changed {name} by {change}"
    said = f"{verb} {name}" if effect.estimate >= 0 else verb
    return f"{lead} {said} ({interval})."


def split_sentence(holdout: int, measurement: int, srm: SrmPage) -> str:
    """The two groups' sizes and their sample ratio check."""
    sizes = f"{count(holdout)} units held out, {count(measurement)} measured"
    if srm.p_value is None:
        return f"{sizes}."
    check = f"sample ratio check p = {p_value(srm.p_value)}"
    if srm.mismatch:
        return (
            f"{sizes}: the groups differ more than chance allows ({check}); check that every "
            "SDK logs the holdout exposures before reading the effect."
        )
    return f"{sizes}, as drawn ({check})."


def power_text(facts: PowerFacts) -> str:
    """'By 30 June, at about 1,200 visitors a day, the 5 % holdout and its measurement group
    reach about 5,500 units each: enough to detect a change in revenue per visitor of 12 % or
    more.'"""
    name = in_sentence(facts.metric_name)
    end = day(facts.ends_at.date())
    share = percent(facts.share)
    if facts.units_per_group is None:
        return (
            f"No traffic in the last 14 days yet, so what a {share} holdout detects on {name} "
            f"by {end} is not known; it is sized again on its page once units arrive."
        )
    pace = ""
    if facts.visitors_per_day is not None:
        pace = f", at about {count(facts.visitors_per_day)} new units a day,"
    reach = (
        f"By {end}{pace} the {share} holdout and its measurement group reach about "
        f"{plural(facts.units_per_group, 'unit')} each"
    )
    if facts.detectable_change is None:
        return f"{reach}: too few to detect a change in {name}."
    measured = "the last 14 days'" if facts.baseline_from == "recent" else "an assumed"
    return (
        f"{reach}: enough to detect a change in {name} of {percent(facts.detectable_change)} "
        f"or more (at {measured} baseline, 80 % power)."
    )


NOT_STOPPED = {
    "draft": "not started",
    "running": "running, nothing shipped yet",
    "archived": "archived: served to no one",
}


def covered_state(status: str, winner: str | None, control: str, counted: bool) -> str:
    """A covered experiment's state: whether it shipped a winner other than its control, and
    whether the summary's look counts it (`counted`: stopped within the period it covers)."""
    if status in NOT_STOPPED:
        return NOT_STOPPED[status]
    if winner is None or winner == control:
        return "stopped with the control kept: nothing shipped"
    if counted:
        return f"shipped {winner}"
    return f"shipped {winner}, not in the summary: stopped outside the period its look covers"
