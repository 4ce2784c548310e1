"""What the pages derive from a look's page: the stop form's choice and caution."""

from __future__ import annotations

from api.pages.views import stop_caution, stop_choice
from experiments.results.page import ResultsPage
from tests.experiments.results.pages import a_comparison, a_metric, a_page


def look(verdict: str, variant: str | None, outcome: str, low: float | None) -> ResultsPage:
    relative = {"estimate": None, "ci_low": low, "ci_high": None}
    comparison = a_comparison("b", outcome=outcome, sequential={"relative": relative})
    decision = {"verdict": verdict, "variant": variant, "reason": "the data says so"}
    metric = a_metric({"a": 900, "b": 910}, [comparison])
    return a_page([metric], unit="visitor", decision=decision)


def test_the_stop_form_chooses_the_winner_the_verdict_names() -> None:
    ship = look("ship", "b", "improved", 0.02)
    assert stop_choice(ship) == "b"
    assert stop_caution(ship, "b") is None and stop_caution(ship, None) is None
    assert stop_choice(look("keep_running", None, "no_clear_change", -0.1)) == ""


def test_shipping_a_variant_not_shown_better_is_cautioned() -> None:
    running = look("keep_running", None, "no_clear_change", -0.1)
    assert stop_caution(running, "a") is None  # the control
    assert stop_caution(running, "b") == (
        "b has not been shown better than a on purchase conversion: the data says keep running."
    )
    thin = look("keep_running", None, "no_clear_change", None)
    assert stop_caution(thin, "b") == (
        "b has fewer than the minimum data for a reading of purchase conversion (910 visitors so "
        "far)."
    )
