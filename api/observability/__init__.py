"""What the service tells an operator: Prometheus metrics, structured logs, the request log."""

from api.observability.logs import configure_logging
from api.observability.metrics import Telemetry
from api.observability.requests import RequestObserver

__all__ = ["RequestObserver", "Telemetry", "configure_logging"]
