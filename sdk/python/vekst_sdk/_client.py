"""The shop-facing client: local assignment, automatic exposures, conversion tracking."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from types import MappingProxyType, TracebackType
from typing import Any

import httpx

from vekst_sdk._assignment import Assignment, AssignmentReason
from vekst_sdk._errors import InvalidInputError
from vekst_sdk._evaluator import Evaluator, OverrideMap
from vekst_sdk._events import EventSender, ExposureDeduper
from vekst_sdk._holdouts import HoldoutExposure
from vekst_sdk._inputs import (
    unit_id_problem,
    validate_attributes,
    validate_event_name,
    validate_event_value,
)
from vekst_sdk._logging import OnceLogger
from vekst_sdk._options import ClientOptions
from vekst_sdk._poller import ConfigPoller
from vekst_sdk._sticky import GuardedStore, MemoryStickyStore

#: The payload when no variant could be given: ``payload.get("layout", "multi")`` stays safe.
EMPTY_PAYLOAD: Mapping[str, Any] = MappingProxyType({})
# Last resort when even building the fallback failed (say, a key whose ``__str__`` raises).
_FAILED = Assignment("", None, EMPTY_PAYLOAD, False, AssignmentReason.ERROR)


class _NotReady:
    """Stands in for the evaluator until the first config arrives."""

    def assign(
        self, experiment_key: str, unit_id: str, attributes: Mapping[str, Any] | None = None
    ) -> Assignment:
        del unit_id, attributes
        return Assignment(str(experiment_key), None, None, False, AssignmentReason.NOT_READY)

    def fallback(self, experiment_key: str) -> Assignment:
        return Assignment(str(experiment_key), None, None, False, AssignmentReason.ERROR)

    def exposure_attributes(
        self, experiment_key: str, attributes: Mapping[str, Any] | None
    ) -> dict[str, Any] | None:
        del experiment_key, attributes
        return None

    def holdout_exposure(self, unit_id: str, assignment: Assignment) -> HoldoutExposure | None:
        del unit_id, assignment
        return None


class Client:
    """Assigns units locally from the server's config and reports events in the background.

    ``Client(api_url, sdk_key)`` loads the config on a background thread and polls it every
    ``poll_interval`` seconds; until the first config arrives ``assign`` returns a ``None``
    variant with reason ``NOT_READY`` (call :meth:`wait_until_ready` at start-up to avoid it).
    ``assign`` and ``track`` never block on the network and never raise; the client is
    thread-safe and safe to call from async code. Call :meth:`close` (or use ``with``) at
    shutdown to flush queued events. ``options`` (:class:`ClientOptions`) tunes how events
    are batched, bounded and retried, and where sticky experiments keep each unit's variant
    (``sticky_store``; by default in this process's memory).
    """

    def __init__(
        self,
        api_url: str,
        sdk_key: str,
        *,
        poll_interval: float = 30.0,
        overrides: OverrideMap | None = None,
        transport: httpx.BaseTransport | None = None,
        options: ClientOptions | None = None,
    ) -> None:
        self._setup(api_url, sdk_key, None, overrides, transport, poll_interval, options)

    @classmethod
    def from_config(
        cls,
        config: Mapping[str, Any],
        api_url: str | None = None,
        sdk_key: str | None = None,
        *,
        overrides: OverrideMap | None = None,
        transport: httpx.BaseTransport | None = None,
        options: ClientOptions | None = None,
    ) -> Client:
        """Build a client that evaluates ``config`` offline and never fetches a config.

        Events (exposures, conversions) are sent only when both ``api_url`` and ``sdk_key``
        are given. Invalid experiments are left out and logged; a document that is unusable
        as a whole raises :class:`ConfigError`.
        """
        client = cls.__new__(cls)
        client._setup(api_url, sdk_key, config, overrides, transport, None, options)
        return client

    def _setup(
        self,
        api_url: str | None,
        sdk_key: str | None,
        config: Mapping[str, Any] | None,
        overrides: OverrideMap | None,
        transport: httpx.BaseTransport | None,
        poll_interval: float | None,
        options: ClientOptions | None,
    ) -> None:
        options = options or ClientOptions()
        self._log = OnceLogger()
        self._overrides = overrides
        self._sticky_store = GuardedStore(
            MemoryStickyStore() if options.sticky_store is None else options.sticky_store,
            self._log,
        )
        self._closed = False
        self._close_lock = threading.Lock()
        self._http: list[httpx.Client] = []
        self._evaluator: Evaluator | _NotReady = _NotReady()
        if config is not None:
            self._apply_config(config)
        self._events: EventSender | None = None
        self._deduper = ExposureDeduper(options.exposure_cache_size)
        self._poller: ConfigPoller | None = None
        online = bool(api_url) and bool(sdk_key)
        if not online:
            return
        if options.max_batch_size < 1 or options.max_queue_size < 1 or options.max_retries < 0:
            raise ValueError("max_batch_size and max_queue_size must be >= 1, max_retries >= 0")

        def http_client() -> httpx.Client:
            client = httpx.Client(
                base_url=str(api_url),
                headers={"Authorization": f"Bearer {sdk_key}"},
                timeout=options.request_timeout,
                transport=transport,
            )
            self._http.append(client)
            return client

        # One httpx client per thread: the poller and the sender never share a connection pool.
        self._events = EventSender(http_client(), self._log, options)
        if poll_interval is not None:
            if poll_interval <= 0:
                raise ValueError("poll_interval must be positive")
            self._poller = ConfigPoller(
                http_client(), self._log, self._apply_config, interval=poll_interval
            )

    def _apply_config(self, config: Any) -> None:
        evaluator = Evaluator(
            config,
            overrides=self._overrides,
            strict=False,
            on_invalid_input=self._warn_input,
            sticky_store=self._sticky_store,
        )
        for error in evaluator.errors:
            self._log.error(f"vekst: experiment left out of the config: {error}")
        # Rebinding one attribute is atomic: readers see the old or the new config, never a mix.
        self._evaluator = evaluator

    def _warn_input(self, experiment: str, path: str, rule: str) -> None:
        self._log.warning(f"vekst: invalid input for experiment '{experiment}': {path} {rule}")

    def wait_until_ready(self, timeout: float | None = None) -> bool:
        """Block until a config is loaded (for start-up code, never a request); true if so."""
        if self._poller is None:
            return isinstance(self._evaluator, Evaluator)
        return self._poller.ready.wait(timeout)

    def assign(
        self, experiment_key: str, unit_id: str, attributes: Mapping[str, Any] | None = None
    ) -> Assignment:
        """Return the unit's variant in ``experiment_key``; log its first exposure.

        Never raises: bad input gives the control with ``in_experiment`` false and a logged
        warning; an unknown experiment (logged once) or a config not loaded yet gives a ``None``
        variant with an empty read-only payload, so ``payload.get(name, default)`` is safe.
        """
        try:
            # One evaluator for the decision and the exposure's dimensions, even if a new
            # config arrives in between.
            evaluator = self._evaluator
            result = evaluator.assign(experiment_key, unit_id, attributes)
            if result.variant is None:
                return self._unassigned(result)
            events = self._events
            if events is None:
                return result
            if result.in_experiment and self._deduper.first_time(result, unit_id):
                events.enqueue_exposure(
                    result, unit_id, evaluator.exposure_attributes(experiment_key, attributes)
                )
            held = evaluator.holdout_exposure(unit_id, result)
            if held is not None and self._deduper.first_time(held, unit_id):
                events.enqueue_exposure(held, unit_id)
            return result
        except Exception:  # the shop's request must never fail because of the SDK
            self._log.error("vekst: internal error in assign", exc_info=True)
            try:
                fallback = self._evaluator.fallback(experiment_key)
                return fallback if fallback.variant is not None else self._unassigned(fallback)
            except Exception:
                return _FAILED

    def _unassigned(self, result: Assignment) -> Assignment:
        """No variant: say why once, and give an empty read-only payload instead of ``None``."""
        if result.reason is AssignmentReason.UNKNOWN_EXPERIMENT:
            self._log.warning(
                f"vekst: no experiment '{result.experiment}' in the config (a mistyped key, or "
                "not created yet); assign returns no variant and an empty payload"
            )
        elif result.reason is AssignmentReason.NOT_READY:
            self._log.warning(
                "vekst: assign was called before the config loaded (call wait_until_ready at "
                "start-up); it returns no variant and an empty payload until then"
            )
        return Assignment(result.experiment, None, EMPTY_PAYLOAD, False, result.reason)

    def track(
        self,
        name: str,
        unit_id: str,
        value: float | None = None,
        properties: Mapping[str, Any] | None = None,
    ) -> None:
        """Queue a conversion event (``purchase`` with ``value=649.0``, ...); never raises.

        Invalid input is logged and dropped; an offline client (no ``api_url``/``sdk_key``)
        drops events silently; after :meth:`close` events are dropped with one logged warning.
        """
        try:
            problem = unit_id_problem(unit_id)
            if problem is not None:
                raise InvalidInputError("unit_id", problem)
            validate_event_name(name)
            validate_event_value(value)
            if properties is not None:
                validate_attributes(properties, "properties")
            if self._events is not None:
                self._events.enqueue_conversion(name, unit_id, value, properties)
        except InvalidInputError as error:
            self._log.warning(f"vekst: dropped event '{name}': {error}")
        except Exception:
            self._log.error("vekst: internal error in track", exc_info=True)

    def close(self, timeout: float = 5.0) -> None:
        """Stop polling and send the queued events, waiting at most about ``timeout`` seconds.

        Idempotent. Exposures and conversions offered after ``close`` are not sent.
        """
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
        if self._poller is not None:
            self._poller.close(timeout)
        if self._events is not None:
            self._events.close(timeout)
        for http in self._http:
            http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
