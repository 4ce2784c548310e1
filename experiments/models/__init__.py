"""SQLModel families: a table model per entity plus the API shapes around it."""

from experiments.models.api_key import ApiKey, KeyScope
from experiments.models.event import Conversion, Exposure
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
from experiments.models.metric import CustomMetric, MetricCreate, MetricPublic
from experiments.models.snapshot import Lease, ResultSnapshot
from experiments.models.webhook import (
    AlertKind,
    DeliveryPublic,
    DeliveryStatus,
    Webhook,
    WebhookCreate,
    WebhookCreated,
    WebhookDelivery,
    WebhookPublic,
)

__all__ = [
    "AlertKind",
    "DeliveryPublic",
    "DeliveryStatus",
    "Lease",
    "ResultSnapshot",
    "Webhook",
    "WebhookCreate",
    "WebhookCreated",
    "WebhookDelivery",
    "WebhookPublic",
    "ApiKey",
    "Conversion",
    "CustomMetric",
    "Design",
    "Experiment",
    "ExperimentCreate",
    "ExperimentPage",
    "ExperimentPublic",
    "ExperimentStatus",
    "ExperimentUpdate",
    "Exposure",
    "KeyScope",
    "MetricCreate",
    "MetricPublic",
    "MetricSelection",
    "StopRequest",
    "Variant",
]
