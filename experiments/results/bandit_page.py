"""A bandit's part of the results page (`ResultsPage.bandit`): each arm's probability of being
best, the weights now and over the update periods, and the leader (docs/results.md, "Bandits").
Absent from an A/B test's page."""

from __future__ import annotations

from experiments.results.page_parts import IsoDatetime, PagePart


class ArmPage(PagePart):
    """One arm of a bandit."""

    variant: str
    units: int
    mean: float | None
    """The decision metric's period-weighted mean (each update period's arm mean weighted by
    that period's share of all units); None without units."""
    standard_error: float | None
    probability_best: float | None
    """The probability that this arm has the best mean (Monte Carlo, seeded by the look); null
    until every arm has a unit."""
    weight: float
    """The arm's share of the traffic from this look on."""


class PeriodPage(PagePart):
    """One update period: when it started, the weights served in it and the seed they were
    drawn with (null: the exploration's equal weights), its units per arm and their sample
    ratio check against those weights (null: no units yet)."""

    period: int
    starts_at: IsoDatetime
    weights: dict[str, float]
    seed: int | None
    units: dict[str, int]
    srm_p_value: float | None


class GainPage(PagePart):
    """What the bandit got over an equal split of the same units (conversions, or the decision
    metric's value for a mean), with its standard error."""

    extra: float
    standard_error: float
    text: str
    """The gain in words: '+412 clicks over an equal split'."""


class BanditPage(PagePart):
    """A bandit at this look (the ordinary A/B readings of its metrics are biased by changing
    weights; these decide)."""

    metric: str
    """The decision metric the bandit steers by."""
    arms: list[ArmPage]
    weights: dict[str, float]
    """Each arm's share of the traffic from this look on."""
    probability_best: dict[str, float | None]
    """Each arm's probability of being best (as in `arms`)."""
    history: list[PeriodPage]
    """The update periods so far, oldest first: the weights over time."""
    seed: int
    """The seed of this look's Monte Carlo draws (and of new weights it set)."""
    draws: int
    exploring: bool
    """True while the weights stay equal: until `exploration_ends_at` and every arm has its
    minimum of units."""
    exploration_ends_at: IsoDatetime | None
    leader: str | None
    called: bool
    """The leader is called: its probability of being best reached `winner_probability` after
    the exploration, or the planned end came."""
    winner_probability: float
    updated: bool
    """This look set new weights (it opened the newest period)."""
    gain: GainPage | None
    ab_readings: str
    """How to read the page's ordinary A/B readings of a bandit: biased by changing weights."""
