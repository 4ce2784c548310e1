"""The page's metric tables carry what the running readings say over time, in one sentence."""

from __future__ import annotations

from api.pages.views import metric_tables
from benchmarks.look_simulations import Scenario, novelty, simulate


def test_a_fading_lift_is_said_to_be_changing_under_its_table() -> None:
    """The issue's checkout test (+50 % for three days, then nothing), look by look."""
    [run] = simulate(Scenario("novelty", novelty(0.50, 3)), 1, seed=31, keep=True)
    notes = []
    for primary in run.primaries:
        page = {"currency": "NOK", "metrics": [primary.to_dict()]}
        [table] = metric_tables(page, [])
        notes += table.notes
    assert any(note.startswith("treatment: the effect is changing over time") for note in notes)
    assert any("the effect has since shrunk" in note for note in notes)
