"""Exposure deduplication and the background event sender.

The request path only appends a tuple to a deque (thread-safe, no lock, no I/O); a daemon
thread turns tuples into the wire format, sends batches to ``POST /v1/events`` and retries with
exponential backoff, reusing the same ``event_id`` values so the server can deduplicate.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections import deque
from collections.abc import Mapping
from typing import Any, Protocol

import httpx

from vekst_sdk._http_status import refusal, unreachable
from vekst_sdk._logging import OnceLogger
from vekst_sdk._options import ClientOptions

EVENTS_PATH = "/v1/events"
_RETRYABLE_STATUS = 429


class Exposed(Protocol):
    """What an exposure names: an experiment and its variant (an :class:`Assignment`), or a
    holdout and the unit's group in it (a ``HoldoutExposure``)."""

    @property
    def experiment(self) -> str: ...

    @property
    def variant(self) -> str | None: ...


class ExposureDeduper:
    """Remembers recent (experiment, variant, unit) triples in two generations of sets.

    When the current generation is full it becomes the previous one and the oldest is
    dropped, so memory is bounded by ``max_size`` entries while recent units stay deduplicated.
    A unit forgotten this way is exposed again, which the analysis tolerates (it keeps the
    first exposure). No lock: this runs on every assignment. Two threads assigning the same new
    unit in the same instant may both log its exposure, and a rotation racing an insert may
    forget a few units; both only add a repeated exposure, which the analysis also tolerates
    (a lock cost about a fifth of the first-exposure budget).
    """

    def __init__(self, max_size: int) -> None:
        if max_size < 2:
            raise ValueError("max_size must be at least 2")
        self._generation_size = max_size // 2
        self._current: set[tuple[str, str | None, str]] = set()
        self._previous: set[tuple[str, str | None, str]] = set()

    def first_time(self, assignment: Exposed, unit_id: str) -> bool:
        """Return true (and remember it) if this unit was not seen in this variant recently."""
        key = (assignment.experiment, assignment.variant, unit_id)
        current = self._current
        if key in current or key in self._previous:
            return False
        current.add(key)
        if len(current) >= self._generation_size:
            self._previous = current
            self._current = set()
        return True


class EventSender:
    """Queues events in memory and sends them from a daemon thread in batches.

    The queue holds at most ``max_queue_size`` events: when it is full, new events are dropped
    and one error is logged. After :meth:`close` the thread is gone, so events offered then
    are dropped with one logged warning instead of waiting in a queue nobody reads.
    """

    def __init__(
        self,
        http: httpx.Client,
        log: OnceLogger,
        options: ClientOptions,
        *,
        backoff_max: float = 30.0,
    ) -> None:
        self._http = http
        self._log = log
        self._flush_interval = options.flush_interval
        self._max_batch_size = options.max_batch_size
        self._max_queue_size = options.max_queue_size
        self._max_retries = options.max_retries
        self._backoff_base = options.backoff_base
        self._backoff_max = backoff_max
        self._queue: deque[tuple[Any, ...]] = deque()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._deadline: float | None = None
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="vekst-events", daemon=True)
        self._thread.start()

    def enqueue_exposure(
        self,
        assignment: Exposed,
        unit_id: str,
        attributes: Mapping[str, Any] | None = None,
    ) -> None:
        """Queue an exposure event with its dimensions' ``attributes`` (none: no field); never
        blocks, drops (and logs) when the queue is full."""
        self._enqueue(
            (
                "exposure",
                time.time_ns() // 1_000_000,
                unit_id,
                assignment.experiment,
                assignment.variant,
                dict(attributes) if attributes else None,
            )
        )

    def enqueue_conversion(
        self, name: str, unit_id: str, value: float | None, properties: Mapping[str, Any] | None
    ) -> None:
        """Queue a conversion event (``value`` and ``properties`` already validated)."""
        self._enqueue(
            (
                "conversion",
                time.time_ns() // 1_000_000,
                unit_id,
                name,
                value,
                dict(properties) if properties else None,
            )
        )

    def _enqueue(self, record: tuple[Any, ...]) -> None:
        if self._closed:
            self._log.warning("vekst: the client is closed; events are dropped")
            return
        queue = self._queue
        if len(queue) >= self._max_queue_size:
            self._log.error(
                f"vekst: event queue full ({self._max_queue_size}); dropping new events until "
                "the server accepts the backlog"
            )
            return
        queue.append(record)
        if len(queue) >= self._max_batch_size:
            self._wake.set()

    def close(self, timeout: float) -> None:
        """Stop the thread after sending what is queued, waiting at most ``timeout`` seconds."""
        self._closed = True
        self._deadline = time.monotonic() + timeout
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout + 1.0)
        # An event enqueued while close() ran can land after the final drain: say so, since
        # nothing will ever send it.
        left = len(self._queue)
        if left and not self._thread.is_alive():
            self._queue.clear()
            self._log.warning(f"vekst: the client is closed; dropped {left} unsent events")

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self._flush_interval)
            self._wake.clear()
            self._send_queued()
        self._send_queued()

    def _send_queued(self) -> None:
        while self._queue:
            records: list[tuple[Any, ...]] = []
            while self._queue and len(records) < self._max_batch_size:
                records.append(self._queue.popleft())
            # One urandom call per batch: 128 random bits per event id, hex-encoded like
            # uuid4().hex but about 15 times cheaper, which keeps the GIL free for requests.
            entropy = os.urandom(16 * len(records)).hex()
            batch = [
                _to_wire(record, entropy[32 * index : 32 * index + 32])
                for index, record in enumerate(records)
            ]
            try:
                self._send_with_retry(batch)
            except Exception:  # the sender thread must survive any bug in one batch
                self._log.error("vekst: unexpected error while sending events", exc_info=True)

    def _send_with_retry(self, batch: list[dict[str, Any]]) -> None:
        body = {"events": batch}
        for attempt in range(self._max_retries + 1):
            retry_after: float | None = None
            try:
                response = self._http.post(EVENTS_PATH, json=body)
            except httpx.HTTPError as error:
                url = self._http.build_request("POST", EVENTS_PATH).url
                problem = f"unreachable: {unreachable(error, url)}"
            else:
                status = response.status_code
                if status < 300:
                    self._report_rejected(response)
                    return
                if status != _RETRYABLE_STATUS and status < 500:
                    self._log.error(
                        f"vekst: events refused ({refusal(status)}); dropped {len(batch)} events"
                    )
                    return
                problem = f"HTTP {status}"
                retry_after = _retry_after_seconds(response)
            if attempt == self._max_retries:
                break
            delay = retry_after or self._backoff_delay(attempt)
            if not self._wait(delay):
                break
        self._log.error(
            f"vekst: could not send events ({problem}); dropped {len(batch)} events after "
            f"{attempt + 1} attempts"
        )

    def _backoff_delay(self, attempt: int) -> float:
        ceiling = min(self._backoff_max, self._backoff_base * 2**attempt)
        # Jitter keeps many shop processes from retrying in lockstep after an outage.
        return float(ceiling * (0.5 + random.random() / 2))

    def _wait(self, delay: float) -> bool:
        """Sleep before a retry; false when closing and the close deadline would pass."""
        if self._deadline is None:
            self._stop.wait(delay)
            if not self._stop.is_set():
                return True
        deadline = self._deadline
        if deadline is None or time.monotonic() + delay > deadline:
            return False
        time.sleep(delay)
        return True

    def _report_rejected(self, response: httpx.Response) -> None:
        try:
            rejected = response.json().get("rejected") or []
        except ValueError:
            return
        if rejected:
            self._log.error(
                f"vekst: the server rejected {len(rejected)} events, first: {rejected[0]}"
            )


def _retry_after_seconds(response: httpx.Response) -> float | None:
    header = response.headers.get("retry-after")
    try:
        return min(float(header), 60.0) if header is not None else None
    except ValueError:
        return None


def _to_wire(record: tuple[Any, ...], event_id: str) -> dict[str, Any]:
    if record[0] == "exposure":
        _, timestamp, unit_id, experiment, variant, attributes = record
        exposure = {
            "event_id": event_id,
            "type": "exposure",
            "unit_id": unit_id,
            "timestamp": timestamp,
            "experiment": experiment,
            "variant": variant,
        }
        if attributes:
            exposure["attributes"] = attributes
        return exposure
    _, timestamp, unit_id, name, value, properties = record
    event: dict[str, Any] = {
        "event_id": event_id,
        "type": "conversion",
        "unit_id": unit_id,
        "timestamp": timestamp,
        "name": name,
    }
    if value is not None:
        event["value"] = float(value)
    if properties:
        event["properties"] = properties
    return event
