"""Which events of a batch the Redis path claims: the first of each id, client ids apart."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from experiments.events.sinks import _claims
from experiments.events.types import ConversionEvent, Event
from tests.experiments.events.helpers import NOW

ids = st.sampled_from(["a", "b", "c", "srv-1", "srv-2"])


@given(st.lists(ids, max_size=12))
def test_the_first_of_each_id_is_kept_and_client_ids_are_claimed(event_ids: list[str]) -> None:
    events: list[Event] = [
        ConversionEvent(event_id, f"unit-{i}", NOW, "purchase")
        for i, event_id in enumerate(event_ids)
    ]
    claimed, unclaimed, claimed_ids = _claims(events)
    firsts = [event for i, event in enumerate(events) if event.event_id not in event_ids[:i]]
    assert claimed == [event for event in firsts if not event.event_id.startswith("srv-")]
    assert unclaimed == [event for event in firsts if event.event_id.startswith("srv-")]
    assert claimed_ids == [event.event_id for event in claimed]
