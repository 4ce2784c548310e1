"""A holdout's results as typed values: what `GET /v1/holdouts/{key}/results` serves and the
holdout's page and `vekst holdouts results` read (`holdout_looks` builds it)."""

from __future__ import annotations

from experiments.models.holdout import HoldoutPower
from experiments.results.page import IntervalReading, ResultsPage, SrmPage
from experiments.results.page_parts import IsoDatetime, PagePart


class GroupUnits(PagePart):
    """Units counted in each group so far."""

    holdout: int
    measurement: int


class HoldoutResultsPage(PagePart):
    """The measurement group against the holdout (the baseline), cumulative since the holdout
    began, from its latest stored look."""

    holdout: str
    name: str
    status: str
    began_at: IsoDatetime
    ends_at: IsoDatetime
    share: float
    metric: str
    """The first of the holdout's metrics, the one the summary names."""
    shipped: list[str]
    """Covered experiments stopped with a winner other than the control since the holdout
    began (up to this look)."""
    covered: list[str]
    effect: IntervalReading | None
    """The first metric's relative change, measurement against holdout: the sequential
    (always-valid) estimate and interval that the look decides by."""
    confidence: float
    """The interval's level (1 - alpha)."""
    units: GroupUnits
    srm: SrmPage
    """The sample ratio check of the two groups, drawn alike (1:1)."""
    summary: str
    power: HoldoutPower
    """What the share can detect by `ends_at` (the units so far plus the traffic to come)."""
    look: ResultsPage
    """The look itself, every metric's readings (its `summary` is the holdout's)."""
