"""The page's metric tables carry what the running readings say over time, in one sentence."""

from __future__ import annotations

from api.pages.views import metric_tables
from benchmarks.look_simulations import METRICS, PLANNED, Scenario, novelty, simulate
from experiments.results.page import MetricPage
from experiments.results.readings.metric_analysis import analyse_metric
from experiments.results.render import metric_page
from experiments.results.sums.aggregation import VariantSums
from experiments.results.words.wording import interval_text
from stats import AnalysisOptions, Interval, RatioStats
from tests.experiments.results.pages import a_page


def test_a_fading_lift_is_said_to_be_changing_under_its_table() -> None:
    """The issue's checkout test (+50 % for three days, then nothing), look by look."""
    [run] = simulate(Scenario("novelty", novelty(0.50, 3)), 1, seed=31, keep=True)
    notes = []
    for primary in run.primaries:
        [table] = metric_tables(a_page([metric_page(primary)]), [])
        notes += table.notes
    assert any(note.startswith("treatment: the effect is changing over time") for note in notes)
    assert any("the effect has since shrunk" in note for note in notes)


def test_a_margin_guardrail_table_reads_its_one_sided_bound_and_old_looks_still_render() -> None:
    """Add to cart 30 % -> 29.95 % over 600,000 units with a 2 % margin: the table keeps the
    two-sided interval as the likely range and words the margin on the one-sided bound; a look
    stored before the bounds existed renders too."""

    def sums(n: int, conversions: int) -> VariantSums:
        c = float(conversions)
        return VariantSums(RatioStats(n, c, c, float(n), float(n), c))

    counts = {"control": sums(600_000, 180_000), "treatment": sums(600_000, 179_700)}
    options = AnalysisOptions(0.05, weights=(1.0, 1.0), planned_units_per_variant=PLANNED)
    result = analyse_metric(METRICS["add_to_cart_rate"], "guardrail", counts, options, 0.02)
    metric = metric_page(result)
    [table] = metric_tables(a_page([metric]), [])
    reading = table.rows[1][-1]
    assert reading.startswith("not harmed (shown within") and reading.endswith(", one-sided)")
    interval = table.rows[1][4]
    shown = metric.comparisons[0].sequential.relative
    assert interval == interval_text(Interval(None, shown.ci_low, shown.ci_high), None)
    stored = metric.as_json()
    del stored["comparisons"][0]["margin_bounds"]
    older = MetricPage.model_validate(stored)
    [old_table] = metric_tables(a_page([older]), [a_page([older])])
    assert old_table.rows[1][-1] == reading  # the stored words are shown as they were
