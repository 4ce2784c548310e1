"""A breakdown by segment in words, for the results page and `vekst results --by`."""

from __future__ import annotations

from experiments.results.page import LevelPage, SegmentsPage
from experiments.results.words.formatting import count, p_value, plural

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
