"""What a surface leads with: the state a reader should see first, and its heading in words.

Once an experiment is stopped, what was done leads ("Shipped one-page on 5 December 2026",
"Stopped without a winner on 5 December 2026"); what the data said at the stop (the
`verdict`) comes second. While it runs, the verdict leads, except for a send to a fixed list
waiting for its attribution window. Read from a page (`page.ResultsPage`), so a stored look,
the overview, the pages, the command line and the webhooks all say the same thing.
"""

from __future__ import annotations

from experiments.results.page import DisplayState, ResultsPage
from experiments.results.types import Verdict
from experiments.results.verdict.stop_outcome import StopOutcome
from experiments.results.words.formatting import day
from experiments.results.words.wording import NO_VERDICT_YET, verdict_words

STOPPED = frozenset(
    {DisplayState.SHIPPED, DisplayState.KEPT_CONTROL, DisplayState.STOPPED_WITHOUT_WINNER}
)
"""The states of a stopped experiment: what was done leads, the verdict comes second."""


def display_state(page: ResultsPage | None) -> DisplayState:
    """The state a page's reader should see first."""
    if page is None:
        return DisplayState.NO_VERDICT
    decision = page.decision
    outcome = _outcome(page)
    if outcome is not None:
        if outcome.winner is None:
            return DisplayState.STOPPED_WITHOUT_WINNER
        return (
            DisplayState.KEPT_CONTROL if outcome.winner == outcome.control else DisplayState.SHIPPED
        )
    if decision.verdict is Verdict.KEEP_RUNNING and decision.wait_until is not None:
        return DisplayState.WAITING_FOR_WINDOW
    return DisplayState(decision.verdict.value)


def headline(page: ResultsPage | None) -> str:
    """The heading a surface leads with."""
    state = display_state(page)
    if page is None or state is DisplayState.NO_VERDICT:
        return NO_VERDICT_YET
    decision = page.decision
    outcome = _outcome(page)
    if outcome is not None:
        return outcome.headline
    if state is DisplayState.WAITING_FOR_WINDOW and decision.wait_until is not None:
        closes = decision.wait_until
        return (
            f"Waiting for the attribution window (closes {day(closes.date())} {closes:%H:%M} UTC)"
        )
    return verdict_words(decision.verdict.value, decision.variant)


def _outcome(page: ResultsPage) -> StopOutcome | None:
    """The page's outcome; the control is the first variant (a look stored before the
    outcome named it)."""
    found = page.decision.outcome
    if found is None:
        return None
    primary = page.primary
    control = found.control or (primary.variants[0].key if primary else "")
    return StopOutcome(found.stopped_at, found.winner, control)


def with_headline(page: ResultsPage) -> ResultsPage:
    """`page` with its `display_state` and `headline` (a look stored before they existed gets
    them when served)."""
    return page.model_copy(
        update={"display_state": display_state(page), "headline": headline(page)}
    )
