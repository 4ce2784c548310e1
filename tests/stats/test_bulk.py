"""``analyze_many`` gives what ``analyze_stats`` gives one analysis at a time, float for float:
the same ``repr`` (which tells -0.0 from 0.0 and names a stray numpy scalar) and the same JSON
bytes, or the same error, on generated analyses of every kind (proportions, means, ratios, CUPED
on one or two covariates) and edge (zero spread, one unit, 0 or n conversions, huge counts, sums
near the float range, few degrees of freedom).

The suite runs a few dozen examples (the time budget); for a long run:
``VEKST_BULK_EXAMPLES=3000 .venv/bin/python -m pytest -q tests/stats/test_bulk.py -n 0``.
"""

from __future__ import annotations

import json
import os
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from stats import (
    AnalysisOptions,
    CovariateStats,
    MeanStats,
    Minimums,
    Prior,
    ProportionStats,
    RatioStats,
    StatsInputError,
    VariantInput,
    analyze_stats,
)
from stats.bulk import analyze_many

SCALES = st.sampled_from([1e-300, 1e-9, 1.0, 37.5, 1e6, 1e150])
EXAMPLES = int(os.environ.get("VEKST_BULK_EXAMPLES", "40"))
COUNTS = st.one_of(st.integers(2, 60), st.integers(2, 5000), st.sampled_from([1, 2, 10**15]))


def _outcome(variants: list[VariantInput], options: AnalysisOptions) -> Any:
    try:
        return analyze_stats(variants, options)
    except StatsInputError as error:
        return error


def _same(expected: Any, found: Any) -> None:
    if isinstance(expected, StatsInputError):
        assert isinstance(found, StatsInputError)
        assert (found.field, str(found)) == (expected.field, str(expected))
        return
    assert repr(found) == repr(expected)
    assert json.dumps(found.to_dict()) == json.dumps(expected.to_dict())


@st.composite
def _values(draw: st.DrawFn, units: int) -> list[float]:
    """Per-unit values: a few distinct ones (so zero spread and zeros come up), scaled."""
    scale = draw(SCALES)
    figures = [0.0, 0.0, 1.0, 2.0, 3.5, 10.0, 250.0, -1.0, -3.5]
    pool = draw(st.lists(st.sampled_from(figures), min_size=1))
    return [pool[index % len(pool)] * scale for index in range(units)]


@st.composite
def _proportion(draw: st.DrawFn, key: str) -> VariantInput:
    n = draw(COUNTS)
    conversions = draw(st.one_of(st.sampled_from([0, n]), st.integers(0, max(n, 0))))
    return VariantInput(key, ProportionStats(n, conversions))


def _sums(values: list[float]) -> tuple[float, float]:
    return float(sum(values)), float(sum(value * value for value in values))


@st.composite
def _mean(draw: st.DrawFn, key: str) -> VariantInput:
    units = draw(st.integers(1, 40))
    values = draw(_values(units))
    total, squares = _sums(values)
    nonzero = draw(st.one_of(st.none(), st.just(sum(1 for value in values if value))))
    return VariantInput(key, MeanStats(units, total, squares), None, nonzero)


@st.composite
def _ratio(draw: st.DrawFn, key: str) -> VariantInput:
    units = draw(st.integers(1, 40))
    numerator = draw(_values(units))
    denominator = draw(_values(units))
    (num, num_sq), (den, den_sq) = _sums(numerator), _sums(denominator)
    cross = float(sum(a * b for a, b in zip(numerator, denominator, strict=True)))
    stats = RatioStats(units, num, num_sq, den, den_sq, cross)
    nonzero = draw(st.one_of(st.none(), st.just(sum(1 for value in denominator if value))))
    return VariantInput(key, stats, None, nonzero)


@st.composite
def _with_covariate(draw: st.DrawFn, variant: VariantInput, second: bool) -> VariantInput:
    """The variant with CUPED sums of a covariate drawn near its per-unit values."""
    stats = variant.stats
    scale = draw(SCALES)
    total = draw(st.floats(0.0, 3.0)) * stats.n * scale
    squares = total * total / stats.n + draw(st.floats(0.0, 2.0)) * stats.n * scale * scale
    bound = (squares * (getattr(stats, "sum_squares", 0.0) or 1.0)) ** 0.5
    cross = draw(st.floats(-0.5, 0.5)) * bound
    extra = [0.0] * 6
    if isinstance(stats, RatioStats):
        extra[0] = draw(st.floats(-0.5, 0.5)) * (squares * stats.denominator_sum_squares) ** 0.5
        if second:
            pre = draw(st.floats(0.0, 2.0)) * stats.n
            pre_squares = pre * pre / stats.n + draw(st.floats(0.0, 1.0)) * stats.n
            extra[1:] = [pre, pre_squares, 0.0, 0.0, 0.0]
    covariate = CovariateStats(total, squares, cross, *extra)
    return variant._replace(covariate=covariate)


_KINDS = {"proportion": _proportion, "mean": _mean, "ratio": _ratio}


@st.composite
def _analysis(draw: st.DrawFn) -> list[VariantInput]:
    kind = draw(st.sampled_from(sorted(_KINDS)))
    arms = draw(st.sampled_from([2, 2, 3, 4]))
    variants = [draw(_KINDS[kind](f"arm{index}")) for index in range(arms)]
    if draw(st.integers(0, 3)) == 0:
        second = draw(st.booleans())
        variants = [draw(_with_covariate(variant, second)) for variant in variants]
    return variants


OPTIONS = st.builds(
    AnalysisOptions,
    alpha=st.sampled_from([0.05, 0.1, 0.001]),
    alternative=st.sampled_from(["two-sided", "greater", "less"]),
    planned_units_per_variant=st.sampled_from([None, 2, 500, 10**7]),
    correction=st.sampled_from(["holm", "bh", "none"]),
    prior=st.sampled_from([None, Prior(0.0, 0.05), Prior(0.1, 1e-300)]),
    minimums=st.sampled_from([None, Minimums(0, 0), Minimums(3, 2)]),
)


@settings(max_examples=EXAMPLES, deadline=None)
@given(analyses=st.lists(_analysis(), min_size=1, max_size=8), options=OPTIONS)
def test_many_analyses_read_as_one_at_a_time(
    analyses: list[list[VariantInput]], options: AnalysisOptions
) -> None:
    found = analyze_many(analyses, options, vectorise_from=1)
    assert len(found) == len(analyses)
    for variants, outcome in zip(analyses, found, strict=True):
        _same(_outcome(variants, options), outcome)


@settings(max_examples=max(EXAMPLES // 4, 10), deadline=None)
@given(
    n=st.integers(2, 2**52),
    rates=st.lists(st.floats(0.0, 1.0), min_size=2, max_size=4),
    options=OPTIONS,
)
def test_counts_from_two_units_to_beyond_exact_floats(
    n: int, rates: list[float], options: AnalysisOptions
) -> None:
    """Proportions of every size, those the arrays cannot hold exactly read alone."""
    variants = [
        VariantInput(f"arm{index}", ProportionStats(n + index, round(rate * (n + index))))
        for index, rate in enumerate(rates)
    ]
    (found,) = analyze_many([variants], options, vectorise_from=1)
    _same(_outcome(variants, options), found)


def test_invalid_analyses_and_options_give_their_errors_and_leave_the_others_read() -> None:
    good = [
        VariantInput("a", ProportionStats(1000, 30)),
        VariantInput("b", ProportionStats(1000, 45)),
    ]
    invalid = [
        [VariantInput("a", ProportionStats(1, 0)), VariantInput("b", ProportionStats(10, 1))],
        [VariantInput("a", ProportionStats(10, 11)), VariantInput("b", ProportionStats(10, 1))],
        [VariantInput("a", MeanStats(10, 5.0, 1.0)), VariantInput("b", MeanStats(10, 5.0, 9.0))],
        [good[0], good[0]],
        [good[0], VariantInput("b", MeanStats(10, 5.0, 9.0))],
        [good[0]],
        [VariantInput("a", MeanStats(10, float("nan"), 1.0)), good[1]],
        [VariantInput("a", ProportionStats(10, 2), None, 3), good[1]],
    ]
    found = analyze_many([good, *invalid, good], vectorise_from=1)
    assert not isinstance(found[0], StatsInputError)
    for variants, outcome in zip([good, *invalid, good], found, strict=True):
        _same(_outcome(variants, AnalysisOptions()), outcome)
    bad_options = AnalysisOptions(alpha=2.0)
    for outcome in analyze_many([good, invalid[0]], bad_options, vectorise_from=1):
        assert isinstance(outcome, StatsInputError)
    _same(
        _outcome(invalid[0], bad_options),
        analyze_many([invalid[0]], bad_options, vectorise_from=1)[0],
    )


def test_no_analyses_give_no_results() -> None:
    assert analyze_many([]) == []


def test_whole_number_sums_beside_covariates_are_read_alone() -> None:
    """Sums given as ints are read one at a time (Python computes on them exactly, the arrays
    would round them first), in analyses with a covariate too: the check of the sums' types
    once flagged another analysis of the part instead, giving different last digits."""
    covariate = CovariateStats(30.0, 50.0, 20.0)

    def arm(key: str, total: float, squares: float) -> VariantInput:
        return VariantInput(key, MeanStats(41, total, squares), covariate)

    for step in range(6):
        big = 3 * 10**17 + 1 + 37 * step  # beyond 2^53: not exact as a float
        analyses = [[arm("a", 100.0 + i, 900.0), arm("b", 120.0, 1000.0)] for i in range(6)]
        analyses.append([arm("a", big, float(big) ** 2), arm("b", big + 7, float(big + 7) ** 2)])
        found = analyze_many(analyses, vectorise_from=1)
        for variants, outcome in zip(analyses, found, strict=True):
            _same(_outcome(variants, AnalysisOptions()), outcome)


def test_a_look_of_mixed_widths_and_kinds_at_the_default_thresholds() -> None:
    """Parts large enough for the arrays beside parts and widths read one at a time, in
    input order: two-arm rates (some with a covariate), three-arm means, a few ratios and
    invalid analyses, interleaved."""
    rates = [
        [VariantInput(key, ProportionStats(900 + 7 * i, 20 + i + 3 * arm)) for arm, key in
         enumerate(("a", "b"))]
        for i in range(40)
    ]  # fmt: skip
    covariate = CovariateStats(25.0, 25.0, 9.0)
    rates += [[variant._replace(covariate=covariate) for variant in pair] for pair in rates[:18]]
    means = [
        [VariantInput(key, MeanStats(60, 30.0 + i + arm, 400.0 + 5 * i)) for arm, key in
         enumerate(("a", "b", "c"))]
        for i in range(34)
    ]  # fmt: skip
    ratios = [
        [VariantInput(key, RatioStats(50, 80.0 + i, 300.0, 20.0 + arm, 30.0, 70.0)) for arm, key
         in enumerate(("a", "b"))]
        for i in range(5)
    ]  # fmt: skip
    invalid = [
        [VariantInput("a", ProportionStats(10, 11)), VariantInput("b", ProportionStats(9, 1))]
    ]
    analyses: list[list[VariantInput]] = []
    for index in range(max(len(rates), len(means))):
        for group in (rates, means, ratios, invalid):
            if index < len(group):
                analyses.append(group[index])
    found = analyze_many(analyses)
    assert len(found) == len(analyses)
    for variants, outcome in zip(analyses, found, strict=True):
        _same(_outcome(variants, AnalysisOptions()), outcome)


def test_too_few_analyses_of_a_width_for_the_arrays_are_read_one_at_a_time() -> None:
    """A part large enough for the arrays whose width has too few such analyses in all
    (``vectorise_from``): every analysis read alone, in order."""
    rates = [
        [VariantInput(key, ProportionStats(900 + i, 20 + i + 3 * arm)) for arm, key in
         enumerate(("a", "b"))]
        for i in range(20)
    ]  # fmt: skip
    means = [
        [VariantInput(key, MeanStats(60, 30.0 + i + arm, 400.0 + 5 * i)) for arm, key in
         enumerate(("a", "b"))]
        for i in range(12)
    ]  # fmt: skip
    analyses = [*rates[:10], *means, *rates[10:]]
    found = analyze_many(analyses)
    assert len(found) == len(analyses)
    for variants, outcome in zip(analyses, found, strict=True):
        _same(_outcome(variants, AnalysisOptions()), outcome)
