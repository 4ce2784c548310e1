"""SQLModel families: a table model per entity plus the API shapes around it."""

from experiments.models.api_key import ApiKey, KeyScope
from experiments.models.audit import (
    AuditEntity,
    AuditEntry,
    AuditEntryPublic,
    AuditPage,
    FieldChange,
)
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
    ResultsOverview,
    StopRequest,
    Variant,
)
from experiments.models.metric import CustomMetric, MetricCreate, MetricPublic
from experiments.models.pasted_counts import CountsCreate, CountsPublic, PastedCount, VariantCounts
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
    "AuditEntity",
    "AuditEntry",
    "AuditEntryPublic",
    "AuditPage",
    "Conversion",
    "CountsCreate",
    "CountsPublic",
    "CustomMetric",
    "Design",
    "Experiment",
    "ExperimentCreate",
    "ExperimentPage",
    "ExperimentPublic",
    "ExperimentStatus",
    "ExperimentUpdate",
    "Exposure",
    "FieldChange",
    "KeyScope",
    "MetricCreate",
    "MetricPublic",
    "MetricSelection",
    "PastedCount",
    "ResultsOverview",
    "StopRequest",
    "Variant",
    "VariantCounts",
]
