"""Searching the audit log for the pages: newest first, filtered by what changed and who did it.

`audit.audit_page` reads the log oldest first for machines that follow it; a person asks "who
changed this experiment last week", so this reads it backwards with filters.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from experiments.audit import to_public
from experiments.models.audit import AuditEntity, AuditEntry, AuditEntryPublic

MAX_ENTRIES = 200


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """What to look for; None (or "") matches anything. `actor` is a part of the name of who
    did it (a key's name today), case-insensitive; `before` an entry id, for the next page."""

    entity: AuditEntity | None = None
    entity_key: str = ""
    actor: str = ""
    since: datetime | None = None
    before: int | None = None


@dataclass(frozen=True, slots=True)
class AuditSearch:
    entries: list[AuditEntryPublic]
    next_before: int | None  # the `before` of the next (older) page, None at the end


def search_audit(session: Session, wanted: AuditFilter, limit: int = 100) -> AuditSearch:
    """The newest `limit` entries (at most `MAX_ENTRIES`) matching `wanted`, newest first."""
    limit = max(1, min(limit, MAX_ENTRIES))
    query = select(AuditEntry)
    if wanted.entity is not None:
        query = query.where(AuditEntry.entity == wanted.entity.value)
    if wanted.entity_key:
        query = query.where(AuditEntry.entity_key == wanted.entity_key)
    if wanted.actor:
        query = query.where(col(AuditEntry.key_name).ilike(f"%{_escaped(wanted.actor)}%", "\\"))
    if wanted.since is not None:
        query = query.where(col(AuditEntry.at) >= wanted.since)
    if wanted.before is not None:
        query = query.where(col(AuditEntry.id) < wanted.before)
    rows = list(session.exec(query.order_by(col(AuditEntry.id).desc()).limit(limit)))
    entries = [to_public(row) for row in rows]
    return AuditSearch(entries, entries[-1].id if len(entries) == limit else None)


def _escaped(text: str) -> str:
    """`text` matched literally by LIKE (its % and _ are not wildcards)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
