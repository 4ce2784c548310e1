"""What the pages derive from a look's page: the stop form's choice and caution."""

from __future__ import annotations

import pytest

from api.pages.views import stop_caution, stop_choice, with_terms
from experiments.results.page import ResultsPage
from experiments.results.words.glossary import GLOSSARY
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


def test_terms_are_explained_where_they_appear() -> None:
    """The summary's "95 % CI" and the freshness line's "Look" carry the glossary's sentence."""
    summary = with_terms("one-page: +12 %, 95 % CI 3 % to 21 %. Ship it.", "95 % CI")
    assert f'<abbr title="{GLOSSARY["95 % CI"]}">95 % CI</abbr> 3 %' in summary
    freshness = with_terms("Look 3, as of 08:36 UTC; next look about 09:36 UTC.", "look")
    assert (
        freshness.startswith('<abbr title="A computed snapshot') and ">Look</abbr> 3," in freshness
    )
    assert freshness.count("<abbr") == 1  # the first use only
    assert "outlook" not in with_terms("outlook", "look") or "<abbr" not in with_terms(
        "outlook", "look"
    )


def test_explained_text_stays_escaped() -> None:
    hostile = with_terms('<script>alert("x")</script> 95 % CI & \\1 \\g<0>', "95 % CI")
    assert "<script>" not in hostile and "&lt;script&gt;" in hostile
    assert "&amp; \\1 \\g&lt;0&gt;" in hostile and hostile.count("<abbr") == 1


def test_only_glossary_terms_are_explained() -> None:
    with pytest.raises(ValueError, match="glossary"):
        with_terms("text", "no such term")
