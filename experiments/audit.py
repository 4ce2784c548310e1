"""Recording and reading the audit log: who changed what, when, field by field.

Every write in the domain calls `record_change` in the same transaction as the change itself,
so the change and its record are committed together or not at all. The function is generic:
any entity (experiments, metrics, keys, and webhooks once they exist) passes its state before
and after as JSON-ready mappings, and only the fields that differ are stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, col, select

from experiments.models.audit import (
    AuditEntity,
    AuditEntry,
    AuditEntryPublic,
    AuditPage,
    FieldChange,
)

State = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Actor:
    """Who made a change: a stored key's id and name; a key without a stored row (the keys
    from the settings, the command line) with id None and a recognisable name; or a person on
    the pages (`user_actor`), with their user id and their e-mail as the name."""

    key_id: int | None
    key_name: str
    user_id: int | None = None


def user_actor(user_id: int, email: str) -> Actor:
    """A person logged in to the pages: the audit log names them by e-mail."""
    return Actor(None, email, user_id)


ENVIRONMENT_ADMIN_KEY = Actor(None, "environment admin key")
ENVIRONMENT_SDK_KEY = Actor(None, "environment sdk key")
COMMAND_LINE = Actor(None, "command line")
SYSTEM = Actor(None, "vekst")
"""Vekst itself, for the changes it makes on its own (the re-plan after the burn-in)."""


def record_change(
    session: Session,
    actor: Actor,
    entity: AuditEntity,
    entity_key: str,
    action: str,
    before: State | None,
    after: State,
) -> AuditEntry | None:
    """Add one log entry for `entity_key` going from `before` (None: created) to `after`.

    Nothing is recorded for an update that changed no field.
    """
    changes = diff(before or {}, after)
    if before is not None and not changes:
        return None
    entry = AuditEntry(
        at=datetime.now(UTC),
        entity=entity.value,
        entity_key=entity_key,
        action=action,
        key_id=actor.key_id,
        key_name=actor.key_name,
        user_id=actor.user_id,
        changes=changes,
    )
    session.add(entry)
    return entry


def diff(before: State, after: State, prefix: str = "") -> dict[str, dict[str, Any]]:
    """`{"path": {"before": old, "after": new}}` for every field that differs; nested objects
    are compared field by field (`design.alpha`), lists and plain values as a whole."""
    changes: dict[str, dict[str, Any]] = {}
    for name in [*before, *(name for name in after if name not in before)]:
        old, new = before.get(name), after.get(name)
        path = f"{prefix}{name}"
        if isinstance(old, Mapping) and isinstance(new, Mapping):
            changes.update(diff(old, new, f"{path}."))
        elif old != new:
            changes[path] = {"before": old, "after": new}
    return changes


def entity_history(
    session: Session, entity: AuditEntity, entity_key: str
) -> list[AuditEntryPublic]:
    """Every recorded change of one entity, oldest first."""
    return _history(session, [entity], entity_key)


def experiment_history(session: Session, key: str) -> list[AuditEntryPublic]:
    """An experiment's history, oldest first: its own changes and the counts pasted to it."""
    return _history(session, [AuditEntity.EXPERIMENT, AuditEntity.COUNTS], key)


def _history(
    session: Session, entities: list[AuditEntity], entity_key: str
) -> list[AuditEntryPublic]:
    rows = session.exec(
        select(AuditEntry)
        .where(
            col(AuditEntry.entity).in_([entity.value for entity in entities]),
            AuditEntry.entity_key == entity_key,
        )
        .order_by(AuditEntry.id)  # type: ignore[arg-type]
    )
    return [to_public(row) for row in rows]


def audit_page(
    session: Session, since: datetime | None = None, after: int | None = None, limit: int = 100
) -> AuditPage:
    """Entries at or after `since` with an id above `after`, oldest first (by id, a stable
    order), at most `limit`; `next_after` is set when more may follow."""
    query = select(AuditEntry)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    if after is not None:
        query = query.where(AuditEntry.id > after)  # type: ignore[operator]
    rows = list(session.exec(query.order_by(AuditEntry.id).limit(limit)))  # type: ignore[arg-type]
    items = [to_public(row) for row in rows]
    return AuditPage(items=items, next_after=items[-1].id if len(items) == limit else None)


def to_public(row: AuditEntry) -> AuditEntryPublic:
    if row.id is None:
        raise RuntimeError("an audit entry is read before it is stored")
    return AuditEntryPublic(
        id=row.id,
        at=row.at,
        entity=AuditEntity(row.entity),
        entity_key=row.entity_key,
        action=row.action,
        key_id=row.key_id,
        key_name=row.key_name,
        user_id=row.user_id,
        changes={path: FieldChange(**change) for path, change in row.changes.items()},
    )
