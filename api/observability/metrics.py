"""Prometheus metrics of one API process, correct with several worker processes.

`vekst serve --workers N` (N > 1) points `PROMETHEUS_MULTIPROC_DIR` at a fresh directory before
the workers start; each worker then writes its counters and histograms there, and `/metrics`
(answered by any one worker) adds up every worker's files. With one process the values live in
memory. Only counters and histograms are kept per process; what describes shared state (the
stream backlog, dead letters, worker lag) is read from Redis at scrape time, so it is the same
whichever worker answers.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from experiments.webhooks.delivery import DELIVERY_OUTCOMES, DeliveryOutcome

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
# Assign answers in about a millisecond, a results page in tens to hundreds.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# A look takes tens of milliseconds on a small experiment, seconds to minutes on millions of units.
LOOK_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)


def multiprocess_dir() -> str | None:
    """The directory the worker processes share their metrics through, if any."""
    return os.environ.get(MULTIPROCESS_ENV) or None


class _Fixed(Collector):
    """Metrics already computed for this scrape (shared state read from Redis)."""

    def __init__(self, metrics: Sequence[Metric]) -> None:
        self._metrics = metrics

    def collect(self) -> Iterable[Metric]:
        return self._metrics


class Telemetry:
    """The process's metrics. Built once per app; `render` answers a scrape. It is also the
    scheduler's observer (`experiments.scheduling.SchedulerObserver`)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.requests = Histogram(
            "vekst_http_request_duration_seconds",
            "Time from the request's arrival to its last byte sent, per route template.",
            ["route", "method", "status"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.events = Counter(
            "vekst_events",
            "Events received, by outcome (accepted, duplicate, rejected) and type (exposure, "
            "conversion; 'mixed' for accepted or repeated events of a batch of both types; "
            "'invalid' for a rejected event without a known type).",
            ["outcome", "type"],
            registry=self.registry,
        )
        self.rate_limited = Counter(
            "vekst_rate_limited_requests",
            "Requests refused with 429 because their key's token bucket was empty.",
            ["limit"],
            registry=self.registry,
        )
        self.config_changes = Counter(
            "vekst_config_changes_seen",
            "Changes made by another process (definitions, keys) that this process picked up.",
            registry=self.registry,
        )
        self.looks = Histogram(
            "vekst_snapshot_duration_seconds",
            "Time to take and store one scheduled look (results snapshot) of one experiment; "
            "its _count is the number of scheduled looks taken.",
            buckets=LOOK_BUCKETS,
            registry=self.registry,
        )
        self.looks_skipped = Counter(
            "vekst_snapshots_skipped",
            "Scheduled looks that could not be taken (logged with the reason).",
            registry=self.registry,
        )
        deliveries = Counter(
            "vekst_webhook_deliveries",
            "Webhook delivery attempts, by outcome (delivered; retrying: refused or unanswered, "
            "tried again later; failed: the last attempt refused, given up).",
            ["outcome"],
            registry=self.registry,
        )
        # Every outcome exported from the start (at 0), so alert rules see the series.
        self._deliveries = {outcome: deliveries.labels(outcome) for outcome in DELIVERY_OUTCOMES}

    def look_taken(self, seconds: float) -> None:
        self.looks.observe(seconds)

    def look_skipped(self) -> None:
        self.looks_skipped.inc()

    def delivery_attempted(self, outcome: DeliveryOutcome) -> None:
        self._deliveries[outcome].inc()

    def render(self, shared: Sequence[Metric] = ()) -> bytes:
        """The Prometheus text exposition of every worker process, plus `shared` (blocking)."""
        folder = multiprocess_dir()
        registry = CollectorRegistry(auto_describe=False)
        if folder is None:
            registry = self.registry
        else:
            MultiProcessCollector(registry, path=folder)  # type: ignore[no-untyped-call]
        if not shared:
            return generate_latest(registry)
        scrape = CollectorRegistry(auto_describe=False)
        scrape.register(_Fixed([*registry.collect(), *shared]))
        return generate_latest(scrape)
