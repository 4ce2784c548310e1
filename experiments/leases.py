"""Named database leases: work that must run once at a time across every process and host.

A lease is a row of `leases` whose `expires_at` its holder moved forward with a compare-and-set
`UPDATE ... WHERE expires_at <= now`, so exactly one caller wins while it is free. The
scheduler takes one per snapshot interval and lets it expire; a prune takes one for as long as
it runs, renews it between batches and releases it at the end. A holder that dies keeps its
lease only until `expires_at`.
"""

from __future__ import annotations

import socket
import uuid
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from experiments.models.snapshot import Lease


def new_holder() -> str:
    """A holder name unique to this caller: the host, then a random part (at most 53 chars)."""
    return f"{socket.gethostname()[:40]}-{uuid.uuid4().hex[:12]}"


def acquire_lease(
    engine: Engine, name: str, holder: str, duration: timedelta, now: datetime
) -> bool:
    """Take lease `name` until `now + duration` if it has expired (or never existed)."""
    with engine.begin() as connection:
        moved = connection.execute(
            update(Lease)
            .where(col(Lease.name) == name, col(Lease.expires_at) <= now)
            .values(holder=holder, expires_at=now + duration)
        )
        if moved.rowcount == 1:
            return True
        if connection.execute(select(col(Lease.name)).where(col(Lease.name) == name)).first():
            return False
    try:
        with engine.begin() as connection:
            connection.execute(
                insert(Lease).values(name=name, holder=holder, expires_at=now + duration)
            )
    except IntegrityError:
        return False  # another process created it first
    return True


def renew_lease(engine: Engine, name: str, holder: str, duration: timedelta, now: datetime) -> bool:
    """Keep lease `name` until `now + duration`; False when `holder` no longer holds it (it
    expired and someone else took it, or it was released)."""
    with engine.begin() as connection:
        moved = connection.execute(
            update(Lease)
            .where(col(Lease.name) == name, col(Lease.holder) == holder)
            .values(expires_at=now + duration)
        )
    return moved.rowcount == 1


def release_lease(engine: Engine, name: str, holder: str) -> None:
    """Give lease `name` up at once, if `holder` still holds it."""
    with engine.begin() as connection:
        connection.execute(
            delete(Lease).where(col(Lease.name) == name, col(Lease.holder) == holder)
        )
