"""The SDK config document: everything an SDK needs to assign locally (docs/assignment.md).

Only running and stopped experiments are in it: drafts assign no one yet, archived ones no more.
The document is public (any sdk key reads it), so QA overrides appear only as salted digests of
their unit ids (`override_hashes`); the admin API shows the ids themselves.
Each experiment's `dimensions` name the attributes an SDK sends with its exposures; a sticky
experiment carries its `sticky_version` (SDKs keep each unit's variant under it); a variant
carries its `changes`, `css` and `redirect` when it has them (the browser SDK applies them).
`holdouts` lists the running holdouts (`experiments.holdouts`), and is absent without one.
The document is a pure function of the stored definitions and the moment, so its ETag changes
exactly when something an SDK would evaluate or send differently changes: a stored change, or
a served holdout's `ends_at` passing (`expires_at`, which a cache of the document honours).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, col, select

from experiments.holdouts import running_holdouts, served_entry
from experiments.models.experiment import SERVED_STATUSES, Experiment
from vekst_sdk.spec import override_digest

CONFIG_VERSION = 1
# What the browser SDK applies by itself (`experiments.variant_changes`); other SDKs ignore them.
NO_CODE_FIELDS = ("changes", "css", "redirect")


@dataclass(frozen=True, slots=True)
class SdkConfig:
    document: dict[str, Any]
    body: bytes
    etag: str
    expires_at: datetime | None = None
    """When the document changes with nothing stored: the earliest `ends_at` of the holdouts it
    serves (None: it changes only with the stored definitions)."""


def override_hashes(salt: str, overrides: dict[str, str]) -> dict[str, str]:
    """The overrides as the public config carries them: unit id digest -> variant key."""
    return {override_digest(salt, unit_id): variant for unit_id, variant in overrides.items()}


def _variant_entry(variant: dict[str, Any]) -> dict[str, Any]:
    """A variant as SDKs read it; its no-code fields only when it has them, so the document of
    an experiment without them stays as it was (and with it the ETag)."""
    entry = {"key": variant["key"], "weight": variant["weight"], "payload": variant.get("payload")}
    entry.update({name: variant[name] for name in NO_CODE_FIELDS if variant.get(name) is not None})
    return entry


def experiment_entry(experiment: Experiment) -> dict[str, Any]:
    """An experiment as SDKs read it; `sticky_version` only when it is sticky, so the document of
    an experiment that is not stays as it was (and with it the ETag)."""
    layer = None
    if experiment.layer is not None:
        layer = {"key": experiment.layer, "ranges": experiment.layer_ranges}
    sticky = {"sticky_version": experiment.sticky_version} if experiment.sticky else {}
    return {
        "key": experiment.key,
        "salt": experiment.salt,
        "status": experiment.status,
        "unit_type": experiment.unit_type,
        "variants": [_variant_entry(variant) for variant in experiment.variants],
        "traffic": experiment.traffic,
        "targeting": experiment.targeting,
        "layer": layer,
        "override_hashes": override_hashes(experiment.salt, experiment.overrides),
        "winner": experiment.winner,
        "dimensions": experiment.dimensions,
        **sticky,
    }


def build_sdk_config(session: Session, now: datetime | None = None) -> SdkConfig:
    """Read the served experiments and render the document, its JSON body and a strong ETag;
    `holdouts` only while one runs at `now` (default: now)."""
    experiments = session.exec(
        select(Experiment)
        .where(col(Experiment.status).in_(SERVED_STATUSES))
        .order_by(col(Experiment.key))
    ).all()
    newest = max((e.updated_at for e in experiments), default=datetime(1970, 1, 1, tzinfo=UTC))
    document: dict[str, Any] = {
        "version": CONFIG_VERSION,
        "generated_at": newest.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "experiments": [experiment_entry(experiment) for experiment in experiments],
    }
    holdouts = running_holdouts(session, now or datetime.now(UTC))
    if holdouts:
        document["holdouts"] = [served_entry(session, holdout) for holdout in holdouts]
    body = json.dumps(document, separators=(",", ":"), sort_keys=True).encode("utf-8")
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    expires_at = min((holdout.ends_at for holdout in holdouts), default=None)
    return SdkConfig(document, body, etag, expires_at)
