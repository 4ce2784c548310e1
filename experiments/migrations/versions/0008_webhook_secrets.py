"""Webhook URLs and secrets encrypted at rest, the URL shown by its host, ids never reused.

- `webhooks.url` and `webhooks.secret` become text (Fernet tokens are longer than the values)
  and are encrypted with the key of `experiments.encryption` when one can be had: from
  VEKST_ENCRYPTION_KEYS, or in development the key file beside the SQLite database. In
  production without VEKST_ENCRYPTION_KEYS they stay as they are (read as they are) until
  `vekst webhooks rotate-key` encrypts them.
- `webhooks.url_shown`: the URL's scheme and host, what listings and the audit log show; the
  audit log's webhook entries are rewritten to show the same.
- SQLite: both webhook tables get AUTOINCREMENT, so a deleted newest id is not given again.

Created 2026-12-05.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Literal

import sqlalchemy as sa
from alembic import op

from experiments.encryption import SEALED_PREFIX, KeyRing
from experiments.errors import NotConfiguredError
from experiments.settings import load_settings
from experiments.webhooks.targets import shown

revision, down_revision = "0008_webhook_secrets", "0007_snapshots"

logger = logging.getLogger(__name__)

_WEBHOOKS = sa.table(
    "webhooks",
    sa.column("id", sa.Integer()),
    sa.column("url", sa.Text()),
    sa.column("url_shown", sa.String(300)),
    sa.column("secret", sa.Text()),
)
_AUDIT = sa.table(
    "audit_log",
    sa.column("id", sa.Integer()),
    sa.column("entity", sa.String(16)),
    sa.column("changes", sa.JSON()),
)


def upgrade() -> None:
    with op.batch_alter_table(
        "webhook_deliveries", recreate=_rebuild(), table_kwargs={"sqlite_autoincrement": True}
    ):
        pass
    with op.batch_alter_table(
        "webhooks", recreate=_rebuild(), table_kwargs={"sqlite_autoincrement": True}
    ) as batch:
        batch.alter_column("url", type_=sa.Text(), existing_nullable=False)
        batch.alter_column("secret", type_=sa.Text(), existing_nullable=False)
        batch.add_column(sa.Column("url_shown", sa.String(300), nullable=True))
    _fill_shown_and_encrypt()
    _redact_audit_log()
    with op.batch_alter_table("webhooks", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.alter_column("url_shown", existing_type=sa.String(300), nullable=False)


def downgrade() -> None:
    _decrypt()
    with op.batch_alter_table(
        "webhooks", recreate=_rebuild(), table_kwargs={"sqlite_autoincrement": False}
    ) as batch:
        batch.drop_column("url_shown")
        batch.alter_column("url", type_=sa.String(2000), existing_nullable=False)
        batch.alter_column("secret", type_=sa.String(200), existing_nullable=False)
    with op.batch_alter_table(
        "webhook_deliveries", recreate=_rebuild(), table_kwargs={"sqlite_autoincrement": False}
    ):
        pass


def _rebuild() -> Literal["always", "auto"]:
    """SQLite sets AUTOINCREMENT only when it creates a table; elsewhere ALTER TABLE does."""
    return "always" if op.get_bind().dialect.name == "sqlite" else "auto"


def _keys() -> KeyRing:
    url = op.get_bind().engine.url.render_as_string(hide_password=False)
    return KeyRing.for_settings(load_settings(database_url=url))


def _rewrite(change: Callable[[str], str]) -> None:
    """Apply `change` to every stored URL and secret."""
    bind = op.get_bind()
    for row in bind.execute(sa.select(_WEBHOOKS.c.id, _WEBHOOKS.c.url, _WEBHOOKS.c.secret)):
        bind.execute(
            _WEBHOOKS.update()
            .where(_WEBHOOKS.c.id == row.id)
            .values(url=change(row.url), secret=change(row.secret))
        )


def _fill_shown_and_encrypt() -> None:
    bind = op.get_bind()
    rows = list(bind.execute(sa.select(_WEBHOOKS.c.id, _WEBHOOKS.c.url)))
    for row in rows:
        bind.execute(
            _WEBHOOKS.update().where(_WEBHOOKS.c.id == row.id).values(url_shown=shown(row.url))
        )
    if not rows:
        return
    keys = _keys()
    try:
        _rewrite(keys.reseal)
    except NotConfiguredError:
        logger.warning(
            "webhook URLs and secrets are left unencrypted: VEKST_ENCRYPTION_KEYS is not set; "
            "set it and run `vekst webhooks rotate-key`"
        )


def _decrypt() -> None:
    bind = op.get_bind()
    sealed = sa.select(sa.func.count()).where(_WEBHOOKS.c.secret.startswith(SEALED_PREFIX))
    if bind.execute(sealed).scalar_one():
        keys = _keys()
        _rewrite(lambda stored: keys.open(stored) if stored.startswith(SEALED_PREFIX) else stored)


def _redact_audit_log() -> None:
    """Audit entries of webhooks show the URL's host, as new entries do."""
    bind = op.get_bind()
    entries = bind.execute(
        sa.select(_AUDIT.c.id, _AUDIT.c.changes).where(_AUDIT.c.entity == "webhook")
    )
    for entry in list(entries):
        url = dict(entry.changes or {}).get("url")
        if not isinstance(url, dict):
            continue
        redacted = {
            side: shown(value) if isinstance(value, str) else value for side, value in url.items()
        }
        changes = {**entry.changes, "url": redacted}
        bind.execute(_AUDIT.update().where(_AUDIT.c.id == entry.id).values(changes=changes))
