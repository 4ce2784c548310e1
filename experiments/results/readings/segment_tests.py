"""Segments that differ at a look: for the primary metric, each (dimension, level, variant) cell
whose effect differs from the effect in the rest of the units (`stats.compare_segments`),
running over the looks like the sequential readings (`running`).

`stats.compare_segments` is stateless: its adjusted p-value is valid at every look, so "ever
found" is the running minimum over the looks, kept here. A cell found once stays reported with
that minimum; at each later look it carries the look's own effects and interval and says
whether this look alone finds it (`differs_at_this_look`). Only the cells found are stored
(with the look's page): a cell that never fell below alpha has no state to carry.

Exploratory: a stage after the verdict, which never reads it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from experiments.results.look_inputs import LookInputs
from experiments.results.page import ResultsPage
from experiments.results.readings.metric_analysis import stats_inputs
from experiments.results.sums.groups import Aggregates
from experiments.results.types import SegmentFinding
from stats import Interval, LevelStats, SegmentDifference, StatsInputError, compare_segments

Cell = tuple[str, str, str]
"""(dimension, level, variant)."""

EarlierFindings = Mapping[Cell, SegmentFinding]


def stored_findings(page: ResultsPage | None) -> dict[Cell, SegmentFinding]:
    """The segments found up to a stored look (none without a page, or before they were)."""
    found: dict[Cell, SegmentFinding] = {}
    for stored in (page.segments_that_differ if page is not None else None) or ():
        difference = stored.difference
        finding = SegmentFinding(
            stored.dimension,
            stored.level,
            stored.variant,
            stored.rest_level,
            stored.level_effect,
            stored.rest_effect,
            Interval(difference.estimate, difference.ci_low, difference.ci_high),
            stored.p_value_adjusted,
            stored.found_at,
            stored.differs_at_this_look,
        )
        found[finding.cell] = finding
    return found


def segment_findings(
    inputs: LookInputs,
    aggregates: Aggregates,
    terms: tuple[float, int | None],
    earlier: EarlierFindings,
    as_of: datetime,
) -> tuple[SegmentFinding, ...] | None:
    """The segments that differ at the look ending `as_of`, given the ones found before
    (`stored_findings`); `terms` are the look's alpha and planned units per variant. None when
    the experiment names no dimensions."""
    dimensions = list(inputs.experiment.dimensions)
    if not dimensions:
        return None
    alpha, planned = terms
    cells = _cells(inputs, aggregates, dimensions, alpha, planned)
    found: dict[Cell, SegmentFinding] = {}
    for cell in cells:
        key = (cell.dimension, cell.level, cell.variant)
        finding = _running(cell, earlier.get(key), as_of)
        if finding is not None:
            found[key] = finding
    for key, before in earlier.items():
        if key not in found and key[0] in dimensions:
            found[key] = _untested(before)
    return tuple(sorted(found.values(), key=_order))


def _order(finding: SegmentFinding) -> tuple[float, float, Cell]:
    """Smallest adjusted p-value first; of a two-level dimension's two cells (the same test),
    the level with the larger effect first, so the words name it first."""
    size = abs(finding.level_effect) if finding.level_effect is not None else 0.0
    return (finding.p_value_adjusted, -size, finding.cell)


def _cells(
    inputs: LookInputs,
    aggregates: Aggregates,
    dimensions: list[str],
    alpha: float,
    planned: int | None,
) -> tuple[SegmentDifference, ...]:
    """Every cell of the primary metric at this look (none while the whole cannot be read)."""
    primary = inputs.primary
    whole_sums = aggregates.metrics.get(primary.key)
    if not whole_sums or primary.kind == "quantile":
        # A quantile is not summed per level (`breakdown`): no cell to test.
        return ()
    levels = [
        LevelStats(dimension, level, stats_inputs(primary, sums.metrics[primary.key]))
        for dimension in dimensions
        for level, sums in aggregates.levels(dimension).items()
    ]
    try:
        report = compare_segments(
            stats_inputs(primary, whole_sums),
            levels,
            alpha=alpha,
            planned_units_per_variant=planned,
        )
    except StatsInputError:
        return ()
    return report.cells


def _running(
    cell: SegmentDifference, before: SegmentFinding | None, as_of: datetime
) -> SegmentFinding | None:
    """The cell as found at this look or before (None: never found)."""
    adjusted = cell.p_value_adjusted
    if adjusted is None:
        return None if before is None else _untested(before)
    if before is None and not cell.differs:
        return None
    running = adjusted if before is None else min(adjusted, before.p_value_adjusted)
    return SegmentFinding(
        cell.dimension,
        cell.level,
        cell.variant,
        cell.rest_level,
        cell.level_effect,
        cell.rest_effect,
        cell.difference,
        running,
        as_of if before is None else before.found_at,
        cell.differs,
    )


def _untested(before: SegmentFinding) -> SegmentFinding:
    """A cell found before and not tested at this look: its last figures, found before only."""
    return SegmentFinding(
        before.dimension,
        before.level,
        before.variant,
        before.rest_level,
        before.level_effect,
        before.rest_effect,
        before.difference,
        before.p_value_adjusted,
        before.found_at,
        differs_at_this_look=False,
    )
