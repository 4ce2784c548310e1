"""Storing around a poison event: when the database refuses a batch for its data, the batch is
halved until each refused event stands alone; the rest is stored.

Used by the stream worker (refused events go to the dead-letter stream) and by the direct SQL
path (refused events are rejected with their index). Outages are not the data's fault: they
propagate, and nothing is refused because of them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import psycopg
import sqlalchemy.exc
from redis.exceptions import RedisError

from experiments.events.entries import describe_error
from experiments.events.store import ReceivedEvent, StoreOutcome

# Errors that mean "Redis or the database cannot be reached now", not "this data is bad": the
# entries stay pending and are retried. Any other error while storing is blamed on the data.
OUTAGES: tuple[type[BaseException], ...] = (
    RedisError,
    ConnectionError,
    TimeoutError,
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    sqlalchemy.exc.DisconnectionError,
    sqlalchemy.exc.TimeoutError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
)

Store = Callable[[Sequence[ReceivedEvent]], StoreOutcome]
Refusal = tuple[int, str]
"""A refused event: its position in the events stored, and the database's reason."""


def store_isolating(
    store: Store, events: Sequence[ReceivedEvent]
) -> tuple[StoreOutcome, list[Refusal]]:
    """Store `events` with `store`; what the database refuses comes back as refusals. Costs one
    transaction without poison, about 2 log2(n) more per poison event."""
    refused: list[Refusal] = []
    outcome = _store_range(store, events, 0, len(events), refused)
    return outcome, refused


def _store_range(
    store: Store, events: Sequence[ReceivedEvent], start: int, end: int, refused: list[Refusal]
) -> StoreOutcome:
    if start == end:
        return StoreOutcome(0, 0)
    try:
        return store(events[start:end])
    except OUTAGES:
        raise
    except Exception as error:  # any other failure is blamed on the data
        if end - start == 1:
            refused.append((start, describe_error(error)))
            return StoreOutcome(0, 0)
    middle = (start + end) // 2
    first = _store_range(store, events, start, middle, refused)
    second = _store_range(store, events, middle, end, refused)
    return StoreOutcome(first.inserted + second.inserted, first.duplicates + second.duplicates)
