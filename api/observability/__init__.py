"""What the service tells an operator: Prometheus metrics, structured logs, the request log."""

from api.observability.logs import configure_logging
from api.observability.metrics import Telemetry
from api.observability.request_log import RequestLog
from api.observability.requests import RequestObserver

__all__ = ["RequestLog", "RequestObserver", "Telemetry", "configure_logging"]
