"""What the pages derive from a look's JSON: the stop form's choice and caution."""

from __future__ import annotations

from typing import Any

from api.pages.views import stop_caution, stop_choice


def look(verdict: str, variant: str | None, outcome: str, low: float | None) -> dict[str, Any]:
    comparison = {"variant": "b", "outcome": outcome, "sequential": {"relative": {"ci_low": low}}}
    return {
        "unit": "visitor",
        "decision": {"verdict": verdict, "variant": variant},
        "metrics": [
            {
                "name": "Purchase conversion",
                "reason": None,
                "variants": [{"key": "a", "n": 900}, {"key": "b", "n": 910}],
                "comparisons": [comparison],
            }
        ],
    }


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
