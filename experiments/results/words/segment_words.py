"""A breakdown by segment in words, for the results page and `vekst results --by`."""

from __future__ import annotations

from collections.abc import Sequence

from experiments.results.page import LevelPage, SegmentDifferencePage, SegmentsPage
from experiments.results.types import SegmentFinding
from experiments.results.words.formatting import count, day, p_value, percent, plural

NO_LEVELS = (
    "This look has no sums of this dimension: it was taken before the dimension was named, or "
    "no unit has been exposed yet. The next look has them."
)


def segment_note(segments: SegmentsPage) -> str:
    """Why the readings are exploratory, and what they are corrected over."""
    correction = "Holm" if segments.correction == "holm" else segments.correction
    return (
        f"{segments.note} Each reading is corrected over the {count(segments.family)} "
        f"comparisons of this breakdown (levels × variants × metrics; {correction}, the "
        "sequential readings by Bonferroni), and is this look's reading, not a running one."
    )


def level_line(level: LevelPage, unit: str) -> str:
    """'1,204 visitors (multi-step 598, one-page 606); sample ratio check p 0.84'."""
    total = sum(level.units.values())
    split = ", ".join(f"{variant} {count(n)}" for variant, n in level.units.items())
    line = f"{plural(total, unit)} ({split})"
    if level.srm.p_value is None:
        return f"{line}; no sample ratio check"
    check = f"sample ratio check p {p_value(level.srm.p_value)}"
    if level.srm.mismatch:
        check += ": the units are not split as designed in this level"
    return f"{line}; {check}"


SAID_AT_MOST = 3
"""The summary names the first cells found (smallest adjusted p-value); the page lists all."""


def differ_sentence(findings: Sequence[SegmentFinding]) -> str:
    """'Segments (exploratory, the verdict stands): one-page: +12 % on mobile, −9 % on
    desktop; a difference this large is unlikely by chance.' One cell per dimension and
    variant, the first found (smallest adjusted p-value, then largest effect): the other cells
    of that dimension mostly restate it (desktop against a rest that holds mobile)."""
    said: set[tuple[str, str]] = set()
    parts = []
    for finding in findings:
        if (finding.dimension, finding.variant) in said:
            continue
        said.add((finding.dimension, finding.variant))
        parts.append(differ_words(finding))
    shown = "; ".join(parts[:SAID_AT_MOST])
    more = len(parts) - SAID_AT_MOST
    if more > 0:
        shown += f"; and {plural(more, 'more segment')}"
    chance = "a difference this large is" if len(parts) == 1 else "differences this large are"
    return f"Segments (exploratory, the verdict stands): {shown}; {chance} unlikely by chance."


def differ_words(finding: SegmentFinding) -> str:
    """'one-page: +12 % on desktop, −9 % on mobile' ('… on the rest' past two levels)."""
    rest = (
        f"on {finding.rest_level}" if finding.rest_level else f"on the rest ({finding.dimension})"
    )
    return (
        f"{finding.variant}: {_effect(finding.level_effect)} on {finding.level}, "
        f"{_effect(finding.rest_effect)} {rest}"
    )


def _effect(value: float | None) -> str:
    return "no reading" if value is None else percent(value, signed=True)


DIFFER_NOTE = (
    "Tested on the primary metric at every look: the variant's effect in each level against its "
    "effect in the rest of the units, valid however often it is looked at and corrected over "
    "every level. Exploratory: for new hypotheses; the verdict is read on all units."
)


def differ_line(cell: SegmentDifferencePage) -> str:
    """'device = mobile, treatment: +53 % against −2.2 % on desktop; difference +56 %
    (+21 % to +101 %), adjusted p 0.003; found 4 March 2026'."""
    rest = f"on {cell.rest_level}" if cell.rest_level is not None else "on the rest"
    difference = cell.difference
    line = (
        f"{cell.dimension} = {cell.level}, {cell.variant}: {_effect(cell.level_effect)} against "
        f"{_effect(cell.rest_effect)} {rest}"
    )
    if difference.estimate is not None:
        line += f"; difference {percent(difference.estimate, signed=True)}"
        if difference.ci_low is not None and difference.ci_high is not None:
            low, high = (
                percent(difference.ci_low, signed=True),
                percent(difference.ci_high, signed=True),
            )
            line += f" ({low} to {high})"
    line += f", adjusted p {p_value(cell.p_value_adjusted)}; found {day(cell.found_at.date())}"
    if not cell.differs_at_this_look:
        line += " (not at this look alone)"
    return line
