"""What a surface leads with: the state a reader should see first, and its heading in words.

Once an experiment is stopped, what was done leads ("Shipped one-page on 5 December 2026",
"Stopped without a winner on 5 December 2026"); what the data said at the stop (the
`verdict`) comes second. While it runs, the verdict leads, except for a send to a fixed list
waiting for its attribution window. Read from a page's JSON, so a stored look, the overview,
the pages, the command line and the webhooks all say the same thing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

from experiments.results.formatting import day
from experiments.results.outcome import Outcome
from experiments.results.wording import NO_VERDICT_YET, verdict_words


class DisplayState(StrEnum):
    """The state a client should show first (`display_state` in the results JSON)."""

    SHIPPED = "shipped"
    """Stopped with a winner other than the control, served to everyone."""
    KEPT_CONTROL = "kept_control"
    """Stopped with the control named the winner."""
    STOPPED_WITHOUT_WINNER = "stopped_without_winner"
    """Stopped without a winner: everyone gets the control."""
    WAITING_FOR_WINDOW = "waiting_for_window"
    """A send to a fixed list: the verdict waits for the attribution window to close."""
    SHIP = "ship"
    STOP = "stop"
    KEEP_RUNNING = "keep_running"
    INCONCLUSIVE = "inconclusive"
    NO_VERDICT = "no_verdict"
    """A draft, or no look yet."""


STOPPED = frozenset(
    {DisplayState.SHIPPED, DisplayState.KEPT_CONTROL, DisplayState.STOPPED_WITHOUT_WINNER}
)
"""The states of a stopped experiment: what was done leads, the verdict comes second."""


def display_state(page: Mapping[str, Any] | None) -> DisplayState:
    """The state a page's reader should see first."""
    if page is None:
        return DisplayState.NO_VERDICT
    decision = page["decision"]
    outcome = _outcome(page)
    if outcome is not None:
        if outcome.winner is None:
            return DisplayState.STOPPED_WITHOUT_WINNER
        return (
            DisplayState.KEPT_CONTROL
            if outcome.winner == outcome.control
            else (DisplayState.SHIPPED)
        )
    if decision["verdict"] == "keep_running" and decision.get("wait_until"):
        return DisplayState.WAITING_FOR_WINDOW
    return DisplayState(decision["verdict"])


def headline(page: Mapping[str, Any] | None) -> str:
    """The heading a surface leads with."""
    state = display_state(page)
    if page is None or state is DisplayState.NO_VERDICT:
        return NO_VERDICT_YET
    decision = page["decision"]
    outcome = _outcome(page)
    if outcome is not None:
        return outcome.headline
    if state is DisplayState.WAITING_FOR_WINDOW:
        closes = datetime.fromisoformat(decision["wait_until"])
        return (
            f"Waiting for the attribution window (closes {day(closes.date())} {closes:%H:%M} UTC)"
        )
    return verdict_words(decision["verdict"], decision.get("variant"))


def _outcome(page: Mapping[str, Any]) -> Outcome | None:
    """The page's outcome; the control is the first variant (a look stored before the
    outcome named it)."""
    found = page["decision"].get("outcome")
    if not found:
        return None
    metrics = page.get("metrics") or []
    control = found.get("control") or (metrics[0]["variants"][0]["key"] if metrics else "")
    return Outcome(datetime.fromisoformat(found["stopped_at"]), found.get("winner"), control)


def with_headline(page: dict[str, Any]) -> dict[str, Any]:
    """`page` with its `display_state` and `headline` (a look stored before they existed gets
    them when served)."""
    return {**page, "display_state": display_state(page).value, "headline": headline(page)}
