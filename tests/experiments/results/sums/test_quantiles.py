"""A quantile metric's SQL summaries against `stats.quantiles.summarize` on the same raw events,
on SQLite and PostgreSQL."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from experiments.metrics import builtin_metrics
from experiments.models.metric import MetricDefinition
from experiments.results.sums import quantiles
from experiments.results.sums.ingestion_marks import take_ceiling
from experiments.results.sums.quantiles import quantile_sums
from stats.quantiles import QuantileSums, summarize
from tests.experiments.results.simulation import START, RawEvents, simulate_shop

END = START + timedelta(days=10)
MEDIAN = builtin_metrics()["median_order_value"]


def reference(raw: RawEvents, metric: MetricDefinition, end: datetime) -> dict[str, QuantileSums]:
    """Per variant, the summaries of the values each single-variant unit sent, from raw rows."""
    first: dict[str, datetime] = {}
    variants: dict[str, set[str]] = defaultdict(set)
    for row in sorted(raw.exposures, key=lambda r: r["timestamp"]):
        if row["timestamp"] <= end:
            first.setdefault(row["unit_id"], row["timestamp"])
            variants[row["unit_id"]].add(row["variant"])
    values: dict[str, list[float]] = defaultdict(list)
    for row in raw.conversions:
        unit, at = row["unit_id"], row["timestamp"]
        if unit not in first or row["name"] != metric.numerator_event or row["value"] is None:
            continue
        if not first[unit] <= at <= end:
            continue
        if metric.sources is not None and row["source"] not in metric.sources:
            continue
        window = metric.window_hours
        if window is not None and at >= first[unit] + timedelta(hours=window):
            continue
        values[unit].append(float(row["value"]))
    clusters: dict[str, list[list[float]]] = defaultdict(list)
    for unit, seen in variants.items():
        if len(seen) == 1:
            clusters[next(iter(seen))].append(values[unit])
    level = metric.quantile
    assert level is not None
    return {key: summarize(level, len(found), found) for key, found in clusters.items()}


def run(engine: Engine, metric: MetricDefinition, end: datetime = END) -> dict[str, QuantileSums]:
    with engine.connect() as connection:
        return quantile_sums(connection, "exp", ["control", "treatment"], metric, end)


@pytest.mark.parametrize(
    "metric",
    [
        MEDIAN,
        MEDIAN.model_copy(update={"key": "p90", "quantile": 0.9}),
        MEDIAN.model_copy(update={"key": "windowed", "quantile": 0.25, "window_hours": 30.0}),
        MEDIAN.model_copy(update={"key": "server", "sources": ["server"]}),
    ],
)
def test_sql_matches_the_raw_reference(engine: Engine, metric: MetricDefinition) -> None:
    raw = simulate_shop(2000, uplift=0.2, seed=5)
    raw.load(engine)
    got, expected = run(engine, metric), reference(raw, metric, END)
    # Counts of whole values: the sums are exact on both databases.
    assert got == expected
    assert got["control"].indicator.values > 10
    middle = START + timedelta(days=2)
    assert run(engine, metric, middle) == reference(raw, metric, middle)


@pytest.mark.parametrize(("level", "control_quantile"), [(0.07, 7.0), (0.5, 50.0), (0.99, 99.0)])
def test_the_rank_is_python_s_even_a_rounding_error_above_a_whole_number(
    engine: Engine, level: float, control_quantile: float
) -> None:
    """The rank ceil(level N) is found in SQL: 0.07 x 100 is 7.000000000000001 in doubles, and
    the rank is still the 7th (the slack of `stats.quantiles.quantile_rank`); a single value is
    its own quantile at any level."""
    raw = RawEvents()
    for index in range(100):
        unit = f"c{index}"
        raw.expose(unit, "control", START)
        raw.convert(unit, "purchase", START + timedelta(hours=1), float(index + 1))
    raw.expose("t0", "treatment", START)
    raw.convert("t0", "purchase", START + timedelta(hours=1), 42.0)
    raw.load(engine)
    metric = MEDIAN.model_copy(update={"key": "edge", "quantile": level})
    got = run(engine, metric)
    assert got == reference(raw, metric, END)
    assert got["control"].quantile == control_quantile
    assert got["treatment"].quantile == 42.0


def test_variants_without_values_have_no_quantile(engine: Engine) -> None:
    raw = RawEvents()
    raw.expose("a", "control", START)
    raw.convert("a", "purchase", START + timedelta(hours=1), 100.0)
    raw.convert("a", "purchase", START + timedelta(hours=2), None)  # no value: left out
    raw.expose("b", "treatment", START)
    raw.load(engine)
    got = run(engine, MEDIAN)
    assert got["control"].quantile == 100.0 and got["control"].indicator.values == 1
    assert got["treatment"].quantile is None and got["treatment"].units == 1


def test_a_ceiling_counts_only_the_events_stored_up_to_it(engine: Engine) -> None:
    """A look's quantiles count the events up to its ingestion mark, as its other sums do: the
    events stored while the look runs wait for the next one (they were counted at once, so a
    look's median could count visitors its conversion rate did not)."""
    raw = simulate_shop(600, uplift=0.2, seed=8)
    raw.load(engine)
    with engine.connect() as connection:
        ceiling = take_ceiling(connection)
    later = RawEvents()
    for index in range(40):
        unit = f"late-{index}"
        later.expose(unit, "treatment", START + timedelta(hours=index))
        later.convert(unit, "purchase", START + timedelta(hours=index, minutes=5), 5000.0)
    later.convert(raw.exposures[0]["unit_id"], "purchase", START + timedelta(days=3), 1.0)
    for row in [*later.exposures, *later.conversions]:
        row["event_id"] = f"late-{row['event_id']}"
    later.load(engine)
    with engine.connect() as connection:
        marked = quantile_sums(connection, "exp", ["control", "treatment"], MEDIAN, END, ceiling)
    assert marked == reference(raw, MEDIAN, END)
    assert run(engine, MEDIAN)["treatment"].units == marked["treatment"].units + 40


def statements(engine: Engine, metric: MetricDefinition) -> tuple[dict[str, QuantileSums], int]:
    """`run`, and the number of SQL statements it sent."""
    sent: list[str] = []

    def count(*args: object) -> None:
        sent.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", count)
    try:
        return run(engine, metric), len(sent)
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_one_query_reads_the_interval_of_units_with_one_value_each(engine: Engine) -> None:
    """The values the interval is interpolated between lie within the window the summaries'
    query reads beside them: no second query. With a window of nothing the second query reads
    them, and the answer is the same."""
    raw = simulate_shop(2000, uplift=0.2, seed=5)
    raw.load(engine)
    expected = reference(raw, MEDIAN, END)
    assert statements(engine, MEDIAN) == (expected, 1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(quantiles, "WINDOW", (0, 0))
        assert statements(engine, MEDIAN) == (expected, 2)


def test_strongly_clustered_values_read_the_ranks_the_window_missed(engine: Engine) -> None:
    """Four control visitors with 50 orders each, every order of two of them below the median
    and of the other two above: the count at or below the median varies by visitor, so the
    interval reaches about 98 ranks from the median, past the window (57 ranks at 200 values).
    The ranks it missed are read by a second query, and the answer is the raw reference's."""
    raw = RawEvents()
    for unit in range(4):
        raw.expose(f"c{unit}", "control", START)
        for order in range(50):
            value = float(unit * 50 + order + 1)
            raw.convert(f"c{unit}", "purchase", START + timedelta(minutes=order + 1), value)
    raw.expose("t0", "treatment", START)
    raw.convert("t0", "purchase", START + timedelta(hours=1), 42.0)
    raw.load(engine)
    got, sent = statements(engine, MEDIAN)
    assert got == reference(raw, MEDIAN, END)
    assert sent == 2
    control = got["control"]
    assert control.lower is not None and control.upper is not None
    assert control.upper - control.lower > 2 * 57
