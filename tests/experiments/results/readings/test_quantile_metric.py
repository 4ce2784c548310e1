"""A quantile metric through the whole look: sums in SQL, readings, families, the stored look
and the page (both databases)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import select

from experiments.db import session_scope
from experiments.metrics import create_metric
from experiments.models.metric import MetricCreate
from experiments.models.snapshot import ResultSnapshot
from experiments.results.segments import serve_breakdown
from experiments.results.snapshots import serve_results
from tests.experiments.results.helpers import start_experiment
from tests.experiments.results.simulation import START, simulate_shop
from tests.experiments.results.sums.test_quantiles import MEDIAN, reference

P90 = MetricCreate(
    key="p90_order_value",
    name="90th percentile order value",
    kind="quantile",
    quantile=0.9,
    numerator_event="purchase",
)


def test_median_order_value_reads_like_any_metric(engine: Engine) -> None:
    """2,000 visitors (this test once had 6,000): each look's median is compared exactly with
    the raw rows' own, which a wrong rank or a wrong look end misses at any size (checked by
    ranking the values in descending order: the medians then differ), and the orders are
    still enough for a comparison of each quantile metric."""
    raw = simulate_shop(2000, uplift=0.1, seed=3)
    raw.load(engine)
    with session_scope(engine) as session:
        create_metric(session, P90)
    start_experiment(
        engine,
        metrics={
            "primary": "conversion_rate",
            "secondary": ["median_order_value", "aov"],
            "guardrails": [P90.key],
            "guardrail_margins": {P90.key: 0.1},
            # No percentile cap: the first look's backfill takes every day in one pass.
            "cap_percentiles": {},
        },
    )
    now = START + timedelta(days=10)
    with session_scope(engine) as session:
        page = serve_results(session, "exp", timedelta(hours=1), now=now, on_new_look=None)
        stored = session.exec(select(ResultSnapshot)).all()
        # Segments break down the summed metrics; the quantile stays on the whole page only.
        broken = serve_breakdown(
            session, "exp", "device", timedelta(hours=1), now=now, on_new_look=None
        )
    assert broken.segments is not None
    shown = {metric.metric for level in broken.segments.levels for metric in level.metrics}
    assert "aov" in shown and "median_order_value" not in shown
    by_key = {metric.metric: metric for metric in page.metrics}
    median = by_key["median_order_value"]
    expected = reference(raw, MEDIAN, now)
    values = {variant.key: variant.value for variant in median.variants}
    assert values == {key: arm.quantile for key, arm in expected.items()}
    assert median.kind == "quantile" and median.value_format == "money"
    assert median.denominators is not None and "orders in control" in median.denominators
    comparison = median.comparisons[0]
    assert comparison.family is not None
    # Stored with the look: the summaries, no per-unit rows.
    assert len(stored) > 5
    for row in stored:
        kept = row.sums["quantiles"]["median_order_value"]["control"]
        assert kept["quantile"] == reference(raw, MEDIAN, row.as_of)["control"].quantile
    last = max(stored, key=lambda row: row.look)
    assert last.sums["quantiles"]["median_order_value"]["control"]["values"] == (
        expected["control"].indicator.values
    )
    guardrail = by_key[P90.key]
    assert guardrail.role == "guardrail" and guardrail.comparisons
