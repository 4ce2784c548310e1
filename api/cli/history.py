"""`vekst history KEY`: every recorded change of an experiment and every reading of counts
pasted to it, oldest first.

Like `vekst results`, an admin-local tool: it reads VEKST_DATABASE_URL through the same domain
function as `GET /v1/experiments/{key}/history`, so it needs no server and no key.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from api.cli.local_db import local_session, require_experiment
from experiments.audit import experiment_history
from experiments.models.audit import AuditEntity, AuditEntryPublic


def history(
    key: Annotated[str, typer.Argument(help="The experiment's key.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the API's JSON instead.")] = False,
) -> None:
    """Print who changed an experiment, when, and what changed (before -> after)."""
    with local_session() as session:
        require_experiment(session, key)
        entries = experiment_history(session, key)
    if as_json:
        typer.echo(json.dumps([entry.model_dump(mode="json") for entry in entries], indent=2))
        return
    for entry in entries:
        typer.echo(render_entry(entry))


def render_entry(entry: AuditEntryPublic) -> str:
    """'2026-03-01 12:00:00 UTC  started  by environment admin key' and one line per field;
    pasted counts read 'counts created' with the figures pasted."""
    who = entry.key_name if entry.key_id is None else f"{entry.key_name} (key {entry.key_id})"
    what = entry.action
    if entry.entity != AuditEntity.EXPERIMENT:
        what = f"{entry.entity.value} {entry.action}"
    lines = [f"{entry.at:%Y-%m-%d %H:%M:%S} UTC  {what}  by {who}"]
    if entry.entity == AuditEntity.COUNTS:
        lines += [f"    {path}: {_value(change.after)}" for path, change in entry.changes.items()]
    elif entry.action != "created":
        lines += [
            f"    {path}: {_value(change.before)} -> {_value(change.after)}"
            for path, change in entry.changes.items()
        ]
    return "\n".join(lines)


def _value(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def register(cli: typer.Typer) -> None:
    cli.command()(history)
