"""The audit log's field-by-field comparison and its recording rules."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlmodel import Session, select

from experiments.audit import COMMAND_LINE, diff, record_change
from experiments.db import make_engine
from experiments.models.audit import AuditEntity, AuditEntry

values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=10,
)
states = st.dictionaries(st.text("abc", min_size=1, max_size=3), values, max_size=5)


def test_nested_objects_are_compared_field_by_field() -> None:
    before = {"name": "A", "design": {"alpha": 0.05, "power": 0.8}, "tags": [1, 2]}
    after = {"name": "A", "design": {"alpha": 0.01, "power": 0.8}, "tags": [2, 1], "new": 1}
    assert diff(before, after) == {
        "design.alpha": {"before": 0.05, "after": 0.01},
        "tags": {"before": [1, 2], "after": [2, 1]},
        "new": {"before": None, "after": 1},
    }


@settings(max_examples=50, deadline=None)
@given(states)
def test_a_state_compared_with_itself_has_no_changes(state: dict[str, Any]) -> None:
    assert diff(state, state) == {}


@settings(max_examples=50, deadline=None)
@given(states, states)
def test_swapping_the_sides_swaps_every_change(
    before: dict[str, Any], after: dict[str, Any]
) -> None:
    forward, backward = diff(before, after), diff(after, before)
    assert set(forward) == set(backward)
    for path, change in forward.items():
        assert change["before"] != change["after"], path
        assert backward[path] == {"before": change["after"], "after": change["before"]}


def test_an_update_without_changes_records_nothing(database_url: str) -> None:
    engine = make_engine(database_url)
    with Session(engine) as session:
        state = {"name": "A"}
        assert (
            record_change(session, COMMAND_LINE, AuditEntity.METRIC, "m", "updated", state, state)
            is None
        )
        created = record_change(
            session, COMMAND_LINE, AuditEntity.METRIC, "m", "created", None, state
        )
        session.commit()
        assert created is not None
        (row,) = session.exec(select(AuditEntry)).all()
        assert (row.key_id, row.key_name, row.changes) == (
            None,
            "command line",
            {"name": {"before": None, "after": "A"}},
        )
    engine.dispose()
