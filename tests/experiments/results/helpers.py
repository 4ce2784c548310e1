"""Experiments and metric sets shared by the results tests and the results benchmarks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine

from experiments import definitions, lifecycle
from experiments.db import session_scope
from experiments.metrics import builtin_metrics
from experiments.models.experiment import ExperimentCreate
from experiments.models.metric import MetricDefinition
from tests.api.helpers import equal_split_body
from tests.experiments.results.simulation import START

CAPPED_AOV = builtin_metrics()["aov"].model_copy(update={"key": "capped_aov", "cap": 900.0})
WINDOWED_RPV = builtin_metrics()["revenue_per_visitor"].model_copy(
    update={"key": "rpv_24h", "window_hours": 24.0, "cap": 1500.0}
)
ITEMS = MetricDefinition(
    key="carts_per_visitor",
    name="Carts",
    kind="mean",
    numerator_event="add_to_cart",
    numerator_aggregation="count",
)
# Only purchases a shop's backend sent with its server key count (the public sdk key's don't).
SERVER_AOV = builtin_metrics()["aov"].model_copy(
    update={"key": "server_aov", "sources": ["server"]}
)
TRUSTED_ABANDONMENT = builtin_metrics()["cart_abandonment"].model_copy(
    update={"key": "trusted_abandonment", "sources": ["server", "admin"]}
)
METRICS = [
    *builtin_metrics().values(),
    CAPPED_AOV,
    WINDOWED_RPV,
    ITEMS,
    SERVER_AOV,
    TRUSTED_ABANDONMENT,
]


def start_experiment(
    engine: Engine, key: str = "exp", started_at: datetime = START, **fields: Any
) -> None:
    """Create a checkout experiment with two equal variants, control and treatment (`fields`
    added to or replacing its definition's), and start it as if at `started_at`."""
    variants = {"control": "Control", "treatment": "Treatment"}
    checkout = equal_split_body(key, "Checkout", "checkout", variants)
    body = ExperimentCreate.model_validate(checkout | fields)
    with session_scope(engine) as session:
        definitions.create_experiment(session, body)
        experiment = lifecycle.start_experiment(session, key)
        experiment.started_at = started_at
        session.add(experiment)
