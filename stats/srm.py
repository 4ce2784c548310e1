"""Sample ratio mismatch: chi-square goodness of fit of units against designed weights."""

from __future__ import annotations

from collections.abc import Sequence

from stats import _builders as build
from stats._distributions import chi2_sf
from stats.results import SrmResult

SRM_THRESHOLD = 0.001


def sample_ratio_check(units: Sequence[int], weights: Sequence[float]) -> SrmResult:
    """Pearson chi-square test of ``units`` against ``weights`` (normalised to sum to 1).

    ``mismatch`` is True when p < 0.001: the split is then very unlikely to come
    from the designed assignment, and the results should not be trusted.
    """
    total = sum(units)
    # sum (o - e)^2 / e with e = total * w, computed on shares so huge counts cannot overflow.
    spread = 0.0
    for observed, weight in zip(units, weights, strict=True):
        gap = observed / total - weight
        spread += gap * gap / weight
    p_value = chi2_sf(total * spread, len(units) - 1)
    return build.srm_result(p_value, p_value < SRM_THRESHOLD)
