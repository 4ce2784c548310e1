"""Webhook URLs and secrets at rest: migration 0008 encrypts the rows stored before it (or, in
production without keys, leaves them readable until `vekst webhooks rotate-key`), redacts the
audit log, keeps the deliveries, and `rotate-key` moves every row to the first key."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session
from typer.testing import CliRunner

from api.cli import build_cli
from experiments.db import make_engine, session_scope
from experiments.encryption import SEALED_PREFIX, KeyRing
from experiments.migrate import upgrade
from experiments.settings import load_settings
from experiments.webhooks.store import delete_webhook, list_webhooks
from tests.experiments.webhooks.helpers import NEXT_KEY, TEST_KEY, add_webhook
from tests.services import fresh_postgres_schema, require_service

SLACK = "https://hooks.slack.com/services/T000/B000/SLACKSECRETPATH"
LOCAL = "http://127.0.0.1:8941/services/T/B/LOCALSECRET"
SECRET = "stored-in-clear-before-0008"


@pytest.fixture(params=["sqlite", "postgres"])
def old_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database at 0007 holding two webhooks, a delivery and the audit entry of a creation,
    all as 0007 stored them (URLs and secrets in clear)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'vekst.db'}"
        upgrade(url, "0007_snapshots")
        _fill(url)
        yield url
        return
    with fresh_postgres_schema(require_service("VEKST_TEST_POSTGRES_URL")) as url:
        upgrade(url, "0007_snapshots")
        _fill(url)
        yield url


def _fill(url: str) -> None:
    now = datetime.now(UTC).replace(tzinfo=None)
    engine = make_engine(url)
    with engine.begin() as connection:
        for target in (SLACK, LOCAL):  # ids 1 and 2
            connection.execute(
                sa.text(
                    "INSERT INTO webhooks (url, events, secret, created_at) "
                    "VALUES (:url, '[\"verdict_changed\"]', :secret, :now)"
                ),
                {"url": target, "secret": SECRET, "now": now},
            )
        connection.execute(
            sa.text(
                "INSERT INTO webhook_deliveries (webhook_id, event, experiment, look, body, status,"
                " attempts, next_attempt_at, created_at) VALUES (1, 'verdict_changed', 'exp', 1,"
                " '{}', 'pending', 0, :now, :now)"
            ),
            {"now": now},
        )
        changes = json.dumps({"url": {"before": None, "after": SLACK}})
        connection.execute(
            sa.text(
                "INSERT INTO audit_log (at, entity, entity_key, action, key_name, changes) "
                "VALUES (:now, 'webhook', '1', 'created', 'command line', :changes)"
            ),
            {"now": now, "changes": changes},
        )
    engine.dispose()


@dataclass
class Stored:
    rows: list[tuple[str, str, str]]  # url, secret, url_shown of each webhook
    deliveries: int
    audit: str


def stored(url: str) -> Stored:
    engine = make_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT url, secret, url_shown FROM webhooks ORDER BY id")
        )
        found = Stored(
            [(row.url, row.secret, row.url_shown) for row in rows],
            connection.execute(sa.text("SELECT COUNT(*) FROM webhook_deliveries")).scalar_one(),
            str(list(connection.execute(sa.text("SELECT changes FROM audit_log")))),
        )
    engine.dispose()
    return found


def test_the_migration_encrypts_old_rows_and_keeps_their_deliveries(
    old_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VEKST_ENCRYPTION_KEYS", TEST_KEY)
    upgrade(old_database)
    found = stored(old_database)
    keys = KeyRing([TEST_KEY])
    (slack_url, slack_secret, slack_shown), (local_url, _, local_shown) = found.rows
    assert slack_url.startswith(SEALED_PREFIX) and slack_secret.startswith(SEALED_PREFIX)
    assert (keys.open(slack_url), keys.open(slack_secret), keys.open(local_url)) == (
        SLACK,
        SECRET,
        LOCAL,
    )
    assert (slack_shown, local_shown) == ("https://hooks.slack.com/…", "http://127.0.0.1:8941/…")
    assert found.deliveries == 1  # not cascaded away by the table's rebuild
    assert "SLACKSECRETPATH" not in found.audit
    assert "hooks.slack.com" in found.audit
    engine = make_engine(old_database)
    with session_scope(engine) as session:
        assert [hook.url for hook in list_webhooks(session)] == [slack_shown, local_shown]
        delete_webhook(session, 2)
    with session_scope(engine) as session:
        assert add_webhook(session, "http://127.0.0.1:9/x").id == 3  # 2 is not given again
    engine.dispose()


def test_development_encrypts_with_the_key_file_beside_the_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'vekst.db'}"
    upgrade(url, "0007_snapshots")
    _fill(url)
    upgrade(url)
    [(sealed, _, _), _] = stored(url).rows
    assert (tmp_path / "encryption.key").is_file()
    assert KeyRing.for_settings(load_settings(database_url=url)).open(sealed) == SLACK


def test_production_without_keys_keeps_old_rows_until_rotate_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'vekst.db'}"
    upgrade(url, "0007_snapshots")
    _fill(url)
    monkeypatch.setenv("VEKST_ENVIRONMENT", "production")
    upgrade(url)
    assert [row[:2] for row in stored(url).rows] == [(SLACK, SECRET), (LOCAL, SECRET)]
    assert not (tmp_path / "encryption.key").exists()

    runner, cli = CliRunner(), build_cli()
    monkeypatch.setenv("VEKST_DATABASE_URL", url)
    refused = runner.invoke(cli, ["webhooks", "rotate-key"])
    assert refused.exit_code == 1
    assert "VEKST_ENCRYPTION_KEYS is not set" in refused.output

    monkeypatch.setenv("VEKST_ENCRYPTION_KEYS", TEST_KEY)
    first = runner.invoke(cli, ["webhooks", "rotate-key"])
    assert first.exit_code == 0, first.output
    assert "2 webhooks encrypted with the first key" in first.output
    [(sealed, _, _), _] = stored(url).rows
    assert KeyRing([TEST_KEY]).open(sealed) == SLACK

    monkeypatch.setenv("VEKST_ENCRYPTION_KEYS", NEXT_KEY)  # the old key dropped too soon
    lost = runner.invoke(cli, ["webhooks", "rotate-key"])
    assert lost.exit_code == 1 and "opens with none of the keys" in lost.output
    monkeypatch.setenv("VEKST_ENCRYPTION_KEYS", f"{NEXT_KEY},{TEST_KEY}")
    assert runner.invoke(cli, ["webhooks", "rotate-key"]).exit_code == 0
    [(sealed, secret, _), _] = stored(url).rows
    assert KeyRing([NEXT_KEY]).open(sealed) == SLACK
    assert KeyRing([NEXT_KEY]).open(secret) == SECRET

    new_key = runner.invoke(cli, ["webhooks", "new-key"]).output.strip()
    assert load_settings(encryption_keys=new_key).encryption_keys == [new_key]


def test_webhook_rows_hold_neither_the_url_nor_the_secret_in_clear(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    with session_scope(engine) as session:
        made = add_webhook(session, LOCAL)
    with Session(engine) as session:
        [row] = session.execute(sa.text("SELECT * FROM webhooks")).all()
    engine.dispose()
    assert made.secret is not None
    assert "LOCALSECRET" not in str(row) and made.secret not in str(row)
