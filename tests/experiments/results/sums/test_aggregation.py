"""SQL aggregation against a plain-Python reference on the same simulated raw events."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.engine import Engine

from experiments.db import make_engine
from experiments.metrics import builtin_metrics
from experiments.models.metric import MetricDefinition
from experiments.results.sums.aggregation import (
    Aggregates,
    aggregate,
    at_both_ends,
    percentile_caps,
)
from experiments.results.sums.both_ends import Cutoff
from experiments.results.sums.ingestion_marks import take_ceiling
from experiments.results.sums.unit_columns import EVERY_UNIT, EXPOSURES, equal_sums
from experiments.results.sums.unit_parts import run_part
from tests.experiments.results.helpers import (
    CAPPED_AOV,
    METRICS,
    SERVER_AOV,
    TRUSTED_ABANDONMENT,
    WINDOWED_RPV,
)
from tests.experiments.results.simulation import (
    START,
    RawEvents,
    reference_sums,
    reference_unit_numerators,
    simulate_shop,
)

END = START + timedelta(days=10)


def run(engine: Engine, metrics: list[MetricDefinition], end=END, cuped=True) -> Aggregates:
    with engine.connect() as connection:
        return aggregate(connection, "exp", ["control", "treatment"], metrics, end, cuped=cuped)


def assert_matches_reference(
    result: Aggregates, raw: RawEvents, end=END, metrics: list[MetricDefinition] = METRICS
) -> None:
    for metric in metrics:
        expected = reference_sums(raw, metric, end, cuped=True)
        for variant, sums in result.metrics[metric.key].items():
            got = sums.as_fields()
            assert got == pytest.approx(expected[variant], rel=1e-9, abs=1e-9), (
                metric.key,
                variant,
            )


def test_simulated_shop_matches_reference(engine: Engine) -> None:
    raw = simulate_shop(3000, uplift=0.2, seed=7)
    raw.load(engine)
    result = run(engine, METRICS)
    assert_matches_reference(result, raw)
    assert result.multi_variant_units > 0
    assert result.exposed_units == 3000
    # Pre-period purchases exist, so revenue per visitor has a covariate.
    assert result.metrics["revenue_per_visitor"]["control"].covariate.covariate_sum > 0


def test_cut_off_in_the_middle_matches_reference(engine: Engine) -> None:
    raw = simulate_shop(1500, uplift=0.0, seed=11)
    raw.load(engine)
    middle = START + timedelta(days=3, hours=5)
    assert_matches_reference(run(engine, METRICS, end=middle), raw, end=middle)


def test_attribution_edge_cases(engine: Engine) -> None:
    raw = RawEvents()
    t0 = START
    raw.expose("early", "control", t0)
    raw.convert("early", "purchase", t0 - timedelta(seconds=1), 100.0)  # before exposure
    raw.expose("two", "control", t0)
    raw.expose("two", "treatment", t0 + timedelta(hours=1))  # left out
    raw.convert("two", "purchase", t0 + timedelta(hours=2), 100.0)
    raw.expose("late", "control", t0 + timedelta(hours=1))
    raw.expose("late", "control", t0)  # stored later, happened first: the start is t0
    raw.convert("late", "purchase", t0 + timedelta(minutes=1), 10.0)
    raw.expose("edge", "treatment", t0)
    raw.convert("edge", "purchase", t0 + timedelta(hours=24), 7.0)  # exactly at window end
    raw.convert("edge", "purchase", t0 + timedelta(hours=24, milliseconds=5), 1000.0)
    raw.expose("stopped", "treatment", t0)
    raw.convert("stopped", "purchase", END + timedelta(seconds=1), 50.0)  # after the stop
    raw.expose("after-stop", "treatment", END + timedelta(seconds=1))  # exposed after the stop
    raw.convert("ghost", "purchase", t0 + timedelta(hours=1), 999.0)  # never exposed
    raw.expose("other", "control", t0, experiment="another")
    raw.convert("other", "purchase", t0 + timedelta(hours=1), 999.0)
    raw.load(engine)
    result = run(engine, METRICS)
    assert result.units == {"control": 2, "treatment": 2}
    assert result.multi_variant_units == 1
    conversion = result.metrics["conversion_rate"]
    assert conversion["control"].totals.numerator_sum == 1  # only "late"
    assert conversion["treatment"].totals.numerator_sum == 1  # "edge"
    windowed = result.metrics["rpv_24h"]
    assert windowed["treatment"].totals.numerator_sum == pytest.approx(7.0)
    assert result.metrics["revenue_per_visitor"]["treatment"].totals.numerator_sum == pytest.approx(
        1007
    )
    assert result.metrics["revenue_per_visitor"][
        "control"
    ].covariate.covariate_sum == pytest.approx(100.0)
    assert_matches_reference(result, raw)


def test_cap_applies_per_unit_on_the_numerator_only(engine: Engine) -> None:
    raw = RawEvents()
    raw.expose("big", "control", START)
    raw.convert("big", "purchase", START + timedelta(minutes=1), 2000.0)
    raw.convert("big", "purchase", START + timedelta(minutes=2), 100.0)
    raw.expose("small", "control", START)
    raw.convert("small", "purchase", START + timedelta(minutes=1), 300.0)
    raw.load(engine)
    sums = run(engine, [CAPPED_AOV]).metrics["capped_aov"]["control"]
    assert sums.totals.numerator_sum == pytest.approx(900.0 + 300.0)
    assert sums.totals.denominator_sum == 3  # the capped unit keeps both of its orders
    assert sums.totals.cross_sum == pytest.approx(900.0 * 2 + 300.0)


def test_a_metric_limited_to_server_events_ignores_the_rest(engine: Engine) -> None:
    # The public sdk key is in every browser: anyone can send a purchase of 1e12 with it.
    raw = RawEvents()
    for unit, variant in (("a", "control"), ("b", "control"), ("c", "treatment")):
        raw.expose(unit, variant, START)
    raw.convert("a", "purchase", START + timedelta(minutes=1), 600.0, source="server")
    raw.convert("b", "purchase", START + timedelta(minutes=1), 700.0, source="server")
    raw.convert("c", "purchase", START + timedelta(minutes=1), 650.0, source="server")
    raw.convert("c", "purchase", START + timedelta(minutes=2), 1e12, source="sdk")
    # Cart abandonment counted on trusted events: c's cart (sdk) does not count, and a's cart
    # (server) is not abandoned, as a's purchase is a server event too.
    raw.convert("a", "add_to_cart", START, source="server")
    raw.convert("c", "add_to_cart", START, source="sdk")
    raw.load(engine)
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    metrics: list[MetricDefinition] = [SERVER_AOV, TRUSTED_ABANDONMENT, builtin_metrics()["aov"]]
    result = run(engine, metrics)
    server_aov = result.metrics["server_aov"]
    assert server_aov["control"].totals.numerator_sum == pytest.approx(1300.0)
    assert server_aov["control"].totals.denominator_sum == 2
    assert server_aov["treatment"].totals.numerator_sum == pytest.approx(650.0)
    assert server_aov["treatment"].totals.denominator_sum == 1  # the forged order is not one
    # Every source counts in the built-in AOV: the forged purchase is in it.
    assert result.metrics["aov"]["treatment"].totals.numerator_sum == pytest.approx(1e12 + 650)
    abandonment = result.metrics["trusted_abandonment"]
    assert abandonment["control"].totals.denominator_sum == 1  # a's cart
    assert abandonment["control"].totals.numerator_sum == 0  # a purchased
    assert abandonment["treatment"].totals.denominator_sum == 0  # c's cart came from a browser
    assert_matches_reference(result, raw, metrics=metrics)
    # The sources are bound parameters, never text in the SQL.
    assert not any("'server'" in statement for statement in statements)


def test_empty_experiment_gives_zero_units(engine: Engine) -> None:
    result = run(engine, METRICS)
    assert result.units == {"control": 0, "treatment": 0}
    assert result.metrics["aov"]["treatment"].totals.n == 0


@pytest.mark.postgres
def test_sqlite_and_postgres_agree(sqlite_url: str, postgres_url: str) -> None:
    raw = simulate_shop(2000, uplift=0.1, seed=3)
    results = []
    for url in (sqlite_url, postgres_url):
        engine = make_engine(url)
        raw.load(engine)
        results.append(run(engine, METRICS))
        engine.dispose()
    sqlite_result, postgres_result = results
    assert sqlite_result.units == postgres_result.units
    assert sqlite_result.multi_variant_units == postgres_result.multi_variant_units
    for key, per_variant in sqlite_result.metrics.items():
        for variant, sums in per_variant.items():
            other = postgres_result.metrics[key][variant]
            assert sums.as_fields() == pytest.approx(other.as_fields(), rel=1e-12), (key, variant)


def sqlite_plans(engine: Engine, take: Callable[[], object]) -> tuple[list[str], list[str]]:
    """The plans and statements of the SELECTs and INSERTs `take` runs on SQLite."""
    plans: list[str] = []
    statements: list[str] = []

    def explain(_conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        # Explained as it runs: the exposed units' temporary table exists only meanwhile.
        if statement.lstrip().startswith(("SELECT", "INSERT")):
            found = cursor.connection.execute("EXPLAIN QUERY PLAN " + statement, parameters)
            plans.append(" | ".join(row[-1] for row in found))
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", explain)
    take()
    event.remove(engine, "before_cursor_execute", explain)
    return plans, statements


def test_sqlite_reads_both_tables_through_covering_indexes_and_groups_units_unsorted(
    sqlite_url: str,
) -> None:
    engine = make_engine(sqlite_url)
    simulate_shop(200, uplift=0.0, seed=5).load(engine)
    plans, statements = sqlite_plans(engine, lambda: run(engine, METRICS))
    engine.dispose()
    exposed, sums = plans[-2:]
    assert "COVERING INDEX ix_exposures_results" in exposed
    assert "COVERING INDEX ix_conversions_results" in sums
    # The units come from their table in unit order: one sort, the groups' (per variant).
    assert "SCAN first_exposure" in sums
    assert sums.count("USE TEMP B-TREE FOR GROUP BY") == 1
    # Grouped by the table's row number, the unit's own columns need no max() per joined row.
    assert "max(first_exposure." not in statements[-1]


def test_an_incremental_looks_units_are_read_from_their_table_on_sqlite(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    raw = simulate_shop(200, uplift=0.0, seed=5)
    raw.load(engine)
    some = sorted({row["unit_id"] for row in raw.exposures})[::3]
    units = select(EXPOSURES.c.unit_id).where(EXPOSURES.c.unit_id.in_(some))

    def take() -> object:
        with engine.connect() as connection:
            ceiling = take_ceiling(connection)
            assert ceiling is not None
            then, now = Cutoff(END - timedelta(days=3), ceiling), Cutoff(END, ceiling)
            look = at_both_ends("exp", METRICS, (), units, then, now)
            return run_part(connection, look, EVERY_UNIT)

    plans, statements = sqlite_plans(engine, take)
    engine.dispose()
    exposed, sums = plans[-2:]
    assert "INSERT INTO look_units" in statements[-2]
    # Both ends from one search per unit in each table.
    assert exposed.count("SEARCH exposures USING COVERING INDEX ix_exposures_results") == 1
    assert sums.count("SEARCH conversions USING COVERING INDEX ix_conversions_results") == 1
    assert "SCAN first_exposure" in sums
    # Two sorts: the units by their groups at both ends, then those few rows per end.
    assert sums.count("USE TEMP B-TREE FOR GROUP BY") == 2
    # The conversions are searched by unit alone: the unit set is not read again for them.
    assert "conversions.unit_id IN" not in statements[-1]


def test_bounds_hold_for_a_start_between_milliseconds(engine: Engine) -> None:
    # SQLite writes the computed bounds to the millisecond; a start at .0006 s must still count
    # events exactly on its window end and its pre-period start, and none a few ms outside.
    start = START + timedelta(microseconds=600)
    raw = RawEvents()
    raw.expose("unit", "control", start)
    raw.convert("unit", "purchase", start + timedelta(hours=24), 7.0)
    raw.convert("unit", "purchase", start + timedelta(hours=24, milliseconds=3), 1000.0)
    raw.convert("unit", "purchase", start - timedelta(days=14), 20.0)
    raw.convert("unit", "purchase", start - timedelta(days=14, milliseconds=3), 500.0)
    raw.load(engine)
    result = run(engine, [WINDOWED_RPV, builtin_metrics()["revenue_per_visitor"]])
    assert result.metrics["rpv_24h"]["control"].totals.numerator_sum == pytest.approx(7.0)
    plain = result.metrics["revenue_per_visitor"]["control"]
    assert plain.totals.numerator_sum == pytest.approx(1007.0)
    assert plain.covariate.covariate_sum == pytest.approx(20.0)


def _nearest_rank(values: list[float], percentile: float) -> float:
    """The smallest value with at least `percentile` % of the values at or below it."""
    ordered = sorted(value for value in values if value != 0)
    rank = math.ceil(percentile / 100 * len(ordered))
    return ordered[max(rank, 1) - 1]


@pytest.mark.parametrize("percentile", [50.0, 90.0, 99.0])
def test_percentile_cap_is_computed_in_sql_over_the_experiments_units(
    engine: Engine, percentile: float
) -> None:
    """The cap is the nearest-rank percentile of the uncapped per-unit numerator over units
    with a value (all variants), then applied like a fixed cap to both sides of the ratio."""
    raw = simulate_shop(1500, uplift=0.1, seed=21)
    raw.load(engine)
    aov, rpv = builtin_metrics()["aov"], builtin_metrics()["revenue_per_visitor"]
    per_unit = reference_unit_numerators(raw, aov, END)
    expected_cap = _nearest_rank(per_unit, percentile)
    with engine.connect() as connection:
        result = aggregate(
            connection,
            "exp",
            ["control", "treatment"],
            [aov, rpv],
            END,
            cap_percentiles={"aov": percentile, "revenue_per_visitor": percentile},
        )
    assert result.caps["aov"] == pytest.approx(expected_cap)
    assert result.caps["revenue_per_visitor"] == pytest.approx(expected_cap)  # same numerator
    expected = reference_sums(raw, aov.model_copy(update={"cap": expected_cap}), END, cuped=True)
    for variant, sums in result.metrics["aov"].items():
        assert sums.as_fields() == pytest.approx(expected[variant], rel=1e-9, abs=1e-9)
    uncapped = run(engine, [aov]).metrics["aov"]
    capped_total = sum(sums.totals.numerator_sum for sums in result.metrics["aov"].values())
    uncapped_total = sum(sums.totals.numerator_sum for sums in uncapped.values())
    # At the 99th percentile of a few dozen buyers the cap is the largest value itself.
    assert capped_total < uncapped_total if percentile < 99 else capped_total <= uncapped_total
    for variant, sums in uncapped.items():
        assert result.metrics["aov"][variant].totals.denominator_sum == sums.totals.denominator_sum


def test_each_percentile_cap_of_one_query_is_its_own_metrics(engine: Engine) -> None:
    """Several capped metrics share one pass over the units; each still gets the percentile of
    its own numerator at its own level (a swapped or shared column would give another's)."""
    raw = simulate_shop(1500, uplift=0.1, seed=22)
    raw.load(engine)
    catalog = builtin_metrics()
    levels = {"aov": 50.0, "revenue_per_visitor": 90.0, "cart_abandonment": 99.0}
    metrics = [catalog[key] for key in levels]
    expected = {
        metric.key: _nearest_rank(reference_unit_numerators(raw, metric, END), levels[metric.key])
        for metric in metrics
    }
    assert len(set(expected.values())) == 3
    with engine.connect() as connection:
        caps = percentile_caps(connection, "exp", metrics, END, levels)
    assert caps == pytest.approx(expected)


def test_percentile_cap_without_any_value_is_no_cap(engine: Engine) -> None:
    raw = RawEvents()
    raw.expose("quiet", "control", START)
    raw.load(engine)
    with engine.connect() as connection:
        result = aggregate(
            connection,
            "exp",
            ["control", "treatment"],
            [builtin_metrics()["aov"]],
            END,
            cap_percentiles={"aov": 99.0},
        )
    assert result.caps == {"aov": None}
    assert result.metrics["aov"]["control"].totals.n == 1


def test_a_zero_or_one_side_is_summed_once_for_its_squares_and_its_units() -> None:
    catalog = builtin_metrics()
    rate, abandonment = catalog["conversion_rate"], catalog["cart_abandonment"]
    assert equal_sums(rate, covariate=True) == {
        "numerator_sum_squares": "numerator_sum",
        "covariate_sum_squares": "covariate_sum",
        "nonzero_units": "numerator_sum",
    }
    # A ratio counts the units with a denominator: an `any` one is its own count.
    assert equal_sums(abandonment, covariate=False) == {
        "numerator_sum_squares": "numerator_sum",
        "denominator_sum_squares": "denominator_sum",
        "nonzero_units": "denominator_sum",
    }
    # A cap below 1 makes a 0/1 value 0/cap; a sum or a count is any number.
    assert equal_sums(rate.model_copy(update={"cap": 0.5}), covariate=True) == {}
    assert equal_sums(catalog["aov"], covariate=True) == {}
    assert equal_sums(catalog["revenue_per_visitor"], covariate=True) == {}


def test_a_capped_zero_or_one_metric_matches_the_reference(engine: Engine) -> None:
    raw = simulate_shop(600, uplift=0.1, seed=3)
    raw.load(engine)
    capped = builtin_metrics()["conversion_rate"].model_copy(update={"key": "half", "cap": 0.5})
    assert_matches_reference(run(engine, [capped]), raw, metrics=[capped])
