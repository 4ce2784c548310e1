"""A bandit's look in words: its decision (the leader called, or why not yet), the summary
("Banner C leads with a 96 % probability of being best; +412 clicks over an equal split") and
the warnings its page leads with (the A/B readings are biased by changing weights)."""

from __future__ import annotations

from collections.abc import Mapping

from experiments.models.metric import MetricDefinition
from experiments.results.bandit_types import BanditReading
from experiments.results.types import Decision, Verdict
from experiments.results.words.formatting import MINUS, count, decimal, money, percent

BIASED_BY_CHANGING_WEIGHTS = (
    "The A/B readings of this bandit are biased by changing weights: they pool units served "
    "different splits on different days. The arms' estimates and probabilities of being best "
    "are period-weighted and decide."
)
SRM_WARNING = (
    "Warning: in at least one update period the units are not split between the arms as the "
    "weights of that period say (sample ratio mismatch); the bandit's readings cannot be "
    "trusted until the cause is found."
)


def bandit_warnings(reading: BanditReading, others: tuple[str, ...]) -> tuple[str, ...]:
    """The warnings of a bandit's page: its own sample ratio check (per period), units left out
    (from `others`, without the A/B check against today's weights), and the label of the A/B
    readings."""
    kept = tuple(warning for warning in others if "sample ratio mismatch" not in warning)
    srm = (SRM_WARNING,) if reading.srm_mismatch else ()
    return (*srm, *kept, BIASED_BY_CHANGING_WEIGHTS)


def bandit_decision(reading: BanditReading, names: Mapping[str, str], control: str) -> Decision:
    """The verdict: the leader called (`ship`; the control called: `stop`, keep it), held back
    by a sample ratio mismatch (`inconclusive`), or `keep_running` while it explores or no arm
    has reached the winner probability."""
    leader = reading.leader
    if reading.exploring or leader is None:
        until = (
            "the first exposure"
            if reading.exploration_ends_at is None
            else f"{reading.exploration_ends_at:%Y-%m-%d %H:%M} UTC"
        )
        return Decision(
            Verdict.KEEP_RUNNING,
            None,
            f"exploring at equal weights until {until} and every arm has its minimum of units",
        )
    chance = percent(reading.arm(leader).probability_best or 0.0)
    if not reading.called:
        return Decision(
            Verdict.KEEP_RUNNING,
            leader,
            f"{names[leader]} leads with a {chance} probability of being best, short of the "
            f"{percent(reading.winner_probability)} that calls it",
        )
    why = f"{names[leader]} leads with a {chance} probability of being best" + (
        " at the planned end" if reading.at_planned_end else ""
    )
    if reading.srm_mismatch:
        return Decision(
            Verdict.INCONCLUSIVE, leader, f"{why}, but a sample ratio mismatch blocks it"
        )
    if leader == control:
        return Decision(Verdict.STOP, None, f"{why}: keep the control")
    return Decision(Verdict.SHIP, leader, why)


def bandit_summary(
    reading: BanditReading,
    decision: Decision,
    names: Mapping[str, str],
) -> str:
    """The summary: the decision in a sentence, the gain over an equal split, and what to do."""
    leader = reading.leader
    if leader is None or reading.exploring:
        return f"Keep running: {decision.reason}."
    chance = percent(reading.arm(leader).probability_best or 0.0)
    gain = "" if reading.gain is None else f"; {reading.gain.text}"
    lead = f"{names[leader]} leads with a {chance} probability of being best{gain}."
    if decision.verdict is Verdict.SHIP:
        return f"{lead} Ship it: stop the bandit with {names[leader]} as the winner."
    if decision.verdict is Verdict.STOP:
        return f"{lead} The control is best: stop the bandit and keep it."
    if decision.verdict is Verdict.INCONCLUSIVE:
        return f"{lead} A sample ratio mismatch blocks calling it: find the cause first."
    return (
        f"{lead} Keep running: the bandit calls a winner at "
        f"{percent(reading.winner_probability)}, and keeps moving traffic to the leader."
    )


def gain_words(extra: float, metric: MetricDefinition, currency: str) -> str:
    """'+412 clicks over an equal split' (a conversion), '+1,200.00 NOK ...' (money)."""
    sign = "+" if extra >= 0 else MINUS
    size = abs(extra)
    if metric.kind == "conversion":
        amount = f"{count(size)} {event_noun(metric.numerator_event, size)}"
    elif metric.value_format == "money":
        amount = money(size, currency)
    else:
        amount = f"{decimal(size)} in {metric.name}"
    return f"{sign}{amount} over an equal split"


def event_noun(event: str, amount: float) -> str:
    """What a conversion counts, from its event: `cta_click` -> clicks, `purchase` ->
    purchases, `add_to_cart` -> adds to cart."""
    words = event.replace("_", " ").split()
    if words and words[0] == "cta":
        words = words[1:]
    if round(amount) == 1 or not words:
        return " ".join(words) or event
    verb = words[0]
    words[0] = verb + ("es" if verb.endswith(("s", "sh", "ch")) else "s")
    return " ".join(words)
