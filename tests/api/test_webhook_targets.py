"""Webhook targets over the API: private and malformed targets refused at creation (422 on
`url`), a URL's secret path and credentials in no log, audit entry or listing, and production
without encryption keys (findings 1, 4 and 14)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.observability import configure_logging
from experiments.db import make_engine
from experiments.settings import Settings, load_settings
from experiments.webhooks.delivery import RetryPolicy, deliver_due
from experiments.webhooks.sender import HttpSender
from experiments.webhooks.targets import TargetPolicy
from tests.conftest import ADMIN_KEY, SDK_KEY
from tests.databases import sqlite_only
from tests.experiments.webhooks.helpers import (
    LOCAL_TARGETS,
    TEST_KEY,
    fixed_keys,
    queue_delivery,
)
from tests.experiments.webhooks.receivers import no_content, running

Headers = dict[str, str]


def app_settings(database_url: str, **overrides: Any) -> Settings:
    return load_settings(
        database_url=database_url,
        admin_key=ADMIN_KEY,
        sdk_key=SDK_KEY,
        start_scheduler=False,
        **overrides,
    )


def create(client: TestClient, headers: Headers, url: str) -> Any:
    return client.post(
        "/v1/webhooks", json={"url": url, "events": ["srm_detected"]}, headers=headers
    )


def test_private_targets_are_refused_at_creation_without_the_setting(
    client: TestClient, admin_headers: Headers
) -> None:
    for url in (
        "http://127.0.0.1:8931/v1/experiments",
        "http://0x7f000001:8931/",
        "http://[::1]/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:10.0.0.1]/",
    ):
        refused = create(client, admin_headers, url)
        assert refused.status_code == 422, url
        [error] = refused.json()["errors"]
        assert error["field"] == "url"
        assert "VEKST_WEBHOOK_ALLOW_PRIVATE_TARGETS" in error["rule"]
    assert client.get("/v1/webhooks", headers=admin_headers).json() == []


@sqlite_only  # refused before anything is stored
@pytest.mark.parametrize(
    "url",
    ["http://[zz]/", "http://hookuser:S3cretPass@127.0.0.1:8941/x", "http://user@127.0.0.1/"],
)
def test_malformed_urls_and_credentials_are_refused_on_url(
    client: TestClient, admin_headers: Headers, url: str
) -> None:
    refused = create(client, admin_headers, url)
    assert refused.status_code == 422
    assert [error["field"] for error in refused.json()["errors"]] == ["url"]
    assert "S3cretPass" not in refused.text


@pytest.fixture
def restored_logging() -> Iterator[list[logging.LogRecord]]:
    """Logging set up as the server sets it up (at debug), every record kept; undone after."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    levels = {name: logging.getLogger(name).level for name in ("httpx", "httpcore")}
    kept: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            kept.append(record)

    configure_logging("json", "debug")
    root.addHandler(Keep())
    yield kept
    root.handlers[:], _ = saved
    root.setLevel(saved[1])
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
    logging.getLogger("uvicorn.access").disabled = False


def test_a_secret_path_is_in_no_log_audit_entry_or_listing(
    sqlite_url: str, admin_headers: Headers, restored_logging: list[logging.LogRecord]
) -> None:
    settings = app_settings(
        sqlite_url, webhook_allow_private_targets=True, encryption_keys=TEST_KEY
    )
    with running(no_content) as receiver, TestClient(create_app(settings)) as client:
        url = receiver.url("/services/T000/B000/SLACKSECRETPATH")
        hook = create(client, admin_headers, url).json()
        engine = make_engine(sqlite_url)
        queue_delivery(engine, hook["id"], datetime.now(UTC))
        send = HttpSender(LOCAL_TARGETS)
        assert deliver_due(engine, send, RetryPolicy(), fixed_keys()) == ["delivered"]
        engine.dispose()
        assert len(receiver.requests) == 1
        assert client.delete(f"/v1/webhooks/{hook['id']}", headers=admin_headers).is_success
        hook = create(client, admin_headers, url).json()
        shown = [
            client.get("/v1/webhooks", headers=admin_headers).text,
            client.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=admin_headers).text,
            client.get("/v1/audit", headers=admin_headers).text,
        ]
    logged = "\n".join(record.getMessage() for record in restored_logging)
    assert any(record.levelno == logging.INFO for record in restored_logging)  # info is kept
    for text in [*shown, logged, hook["url"]]:
        assert "SLACKSECRETPATH" not in text
    assert f"http://127.0.0.1:{receiver.port}/…" in shown[0]
    assert shown[2].count(f"http://127.0.0.1:{receiver.port}/…") == 3  # created, deleted, created


def test_production_without_keys_starts_but_refuses_webhooks(
    sqlite_url: str, admin_headers: Headers
) -> None:
    settings = app_settings(sqlite_url, environment="production")
    app = create_app(settings)
    app.state.webhook_targets = TargetPolicy(resolve=lambda host, port: ["93.184.215.14"])
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
        refused = create(client, admin_headers, "https://hooks.slack.com/services/T/B/X")
        assert refused.status_code == 503
        assert "VEKST_ENCRYPTION_KEYS" in refused.json()["detail"]
        assert client.get("/v1/webhooks", headers=admin_headers).json() == []
