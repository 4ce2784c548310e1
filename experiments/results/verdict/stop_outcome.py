"""What was done: once an experiment is stopped, its results say so beside what the data said.

The verdict and the summary of a stopped experiment are computed at the stop (the end of the
analysis); the outcome adds the decision that was taken then, so a page read later does not
still say "Ship one-page." of a variant that was shipped long ago.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from experiments.models.experiment import Experiment
from experiments.results.words.formatting import day


@dataclass(frozen=True, slots=True)
class StopOutcome:
    stopped_at: datetime
    winner: str | None
    control: str

    @property
    def statement(self) -> str:
        """'stopped on 2026-03-01; one-page shipped to everyone' (no final full stop)."""
        day = self.stopped_at.date().isoformat()
        if self.winner is None:
            return f"stopped on {day} without a winner"
        if self.winner == self.control:
            return f"stopped on {day}; {self.winner} (the control) kept for everyone"
        return f"stopped on {day}; {self.winner} shipped to everyone"

    @property
    def headline(self) -> str:
        """'Shipped one-page on 5 December 2026': what every surface leads with once stopped."""
        when = day(self.stopped_at.date())
        if self.winner is None:
            return f"Stopped without a winner on {when}"
        if self.winner == self.control:
            return f"Kept {self.winner} (the control) on {when}"
        return f"Shipped {self.winner} on {when}"


def stop_outcome_of(experiment: Experiment) -> StopOutcome | None:
    """The outcome of a stopped (or stopped, then archived) experiment; None while it runs."""
    if experiment.stopped_at is None:
        return None
    return StopOutcome(experiment.stopped_at, experiment.winner, experiment.variant_keys()[0])


def summary_after_stop(summary: str, outcome: StopOutcome | None) -> str:
    """The summary led by what was done, when something was: 'Shipped one-page on 5 December
    2026. At the stop the data said: <summary>'."""
    if outcome is None:
        return summary
    return f"{outcome.headline}. At the stop the data said: {summary}"
