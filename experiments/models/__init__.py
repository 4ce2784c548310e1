"""SQLModel families: a table model per entity plus the API shapes around it."""

from experiments.models.api_key import ApiKey, KeyScope
from experiments.models.experiment import (
    Design,
    Experiment,
    ExperimentCreate,
    ExperimentPage,
    ExperimentPublic,
    ExperimentStatus,
    ExperimentUpdate,
    MetricSelection,
    StopRequest,
    Variant,
)

__all__ = [
    "ApiKey",
    "Design",
    "Experiment",
    "ExperimentCreate",
    "ExperimentPage",
    "ExperimentPublic",
    "ExperimentStatus",
    "ExperimentUpdate",
    "KeyScope",
    "MetricSelection",
    "StopRequest",
    "Variant",
]
