"""What a look reads of a bandit (`readings.bandit_arms`): each arm's period-weighted estimate
and probability of being best, the weights over the update periods, the per-period sample ratio
checks, the leader and the gain over an equal split. `render` makes its page part
(`bandit_page.BanditPage`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class ArmReading:
    """One arm: its units, its period-weighted mean of the decision metric with its standard
    error and its probability of being best (None until every arm has a unit), and its weight
    now."""

    variant: str
    units: int
    mean: float | None
    standard_error: float | None
    probability_best: float | None
    weight: float


@dataclass(frozen=True, slots=True)
class PeriodReading:
    """One update period: its start, the weights served in it and the seed they were drawn
    with (None: the exploration's equal weights), its units per arm, and the sample ratio
    check of those units against those weights (None: no units to check)."""

    period: int
    starts_at: datetime
    weights: dict[str, float]
    seed: int | None
    units: dict[str, int]
    srm_p_value: float | None


@dataclass(frozen=True, slots=True)
class Gain:
    """What the bandit got over an equal split of the same units: `extra` conversions (or value,
    for a mean) with its standard error."""

    extra: float
    standard_error: float
    text: str = ""
    """The gain in words (`words.bandit_words.gain_words`)."""


@dataclass(frozen=True, slots=True)
class BanditReading:
    """A bandit at one look (see the module docstring). `update` is the period this look opens
    (its new weights, drawn with `seed`), None when no update was due; `called` says the leader
    is called: its probability of being best reached `winner_probability` after the
    exploration, or the planned end came (`at_planned_end`)."""

    metric: str
    arms: tuple[ArmReading, ...]
    periods: tuple[PeriodReading, ...]
    seed: int
    draws: int
    exploring: bool
    exploration_ends_at: datetime | None
    leader: str | None
    called: bool
    at_planned_end: bool
    winner_probability: float
    gain: Gain | None
    srm_mismatch: bool
    update: PeriodReading | None = None

    @property
    def weights(self) -> dict[str, float]:
        """The weights served from this look on, per arm."""
        return {arm.variant: arm.weight for arm in self.arms}

    def arm(self, variant: str) -> ArmReading:
        return next(arm for arm in self.arms if arm.variant == variant)
