"""Preview links before the start (issue #25): the experiment page signs a token per variant
(`vekst_preview=<token>`), and `GET /v1/sdk/preview?token=` (sdk key) answers with that one
experiment, a draft reading as running, while the normal SDK config still never lists a draft.
Expired, forged, malformed and foreign tokens are refused naming the field `token`."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, unquote

import pytest
from fastapi.testclient import TestClient

from experiments.preview_tokens import PREVIEW_SECONDS, PreviewTokens
from experiments.settings import load_settings
from tests.accounts import log_in
from tests.api.helpers import EXPERIMENT, assert_problem, create, experiment_body, start
from vekst_sdk.spec import Evaluator

Headers = dict[str, str]
CHANGES = [{"selector": "#buy", "action": "text", "value": "Legg i handlekurven"}]
TARGETING = {"attribute": "url", "op": "starts_with", "value": "https://shop.example/product/"}


def _draft(client: TestClient, admin_headers: Headers) -> None:
    control, other = experiment_body()["variants"][:2]
    variants = [control, {**other, "changes": CHANGES}]
    create(client, admin_headers, variants=variants, targeting=TARGETING)


def _tokens(client: TestClient) -> PreviewTokens:
    tokens: PreviewTokens = client.app.state.preview_tokens  # type: ignore[attr-defined]
    return tokens


def _preview(client: TestClient, headers: Headers, token: str) -> Any:
    return client.get("/v1/sdk/preview", params={"token": token}, headers=headers)


def test_the_preview_link_of_a_draft_opens_it_and_the_config_still_hides_it(
    client: TestClient, admin_headers: Headers, sdk_headers: Headers
) -> None:
    _draft(client, admin_headers)
    log_in(client)
    html = client.get(f"/experiments/{EXPERIMENT}").text
    links = re.findall(r'href="https://shop\.example/product/\?vekst_preview=([^"]+)"', html)
    assert len(links) == 2, html
    token = unquote(links[1])
    assert token.startswith(f"{EXPERIMENT}:one-page:")
    response = _preview(client, sdk_headers, token)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    document = response.json()
    (entry,) = document["experiments"]
    assert entry["key"] == EXPERIMENT and entry["status"] == "running"
    assert entry["variants"][1]["changes"] == CHANGES
    Evaluator(document)  # a document every SDK reads
    config = client.get("/v1/sdk/config", headers=sdk_headers).json()
    assert config["experiments"] == []  # the draft is served to the token only


def test_a_running_experiment_is_previewed_as_it_runs(
    client: TestClient, admin_headers: Headers, sdk_headers: Headers
) -> None:
    _draft(client, admin_headers)
    start(client, admin_headers, EXPERIMENT)
    token = _tokens(client).sign(EXPERIMENT, "multi-step", datetime.now(UTC))
    response = _preview(client, sdk_headers, token)
    assert response.status_code == 200, response.text
    (entry,) = response.json()["experiments"]
    served = client.get("/v1/sdk/config", headers=sdk_headers).json()["experiments"]
    assert [entry] == served


def test_an_expired_token_is_refused(
    client: TestClient, admin_headers: Headers, sdk_headers: Headers
) -> None:
    _draft(client, admin_headers)
    signed_at = datetime.now(UTC) - timedelta(seconds=PREVIEW_SECONDS + 5)
    token = _tokens(client).sign(EXPERIMENT, "one-page", signed_at)
    body = assert_problem(_preview(client, sdk_headers, token), 422, "token")
    assert "expired" in body["detail"]


def _forged(token: str) -> list[str]:
    key, variant, expires, signature = token.split(":")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    return [
        f"{key}:multi-step:{expires}:{signature}",  # another variant
        f"{key}:{variant}:{int(expires) + 10**6}:{signature}",  # a later expiry
        f"{key}:{variant}:{expires}:{flipped}",
    ]


def test_forged_tokens_are_refused(
    client: TestClient, admin_headers: Headers, sdk_headers: Headers
) -> None:
    _draft(client, admin_headers)
    now = datetime.now(UTC)
    token = _tokens(client).sign(EXPERIMENT, "one-page", now)
    # Another server's secret (or a session's HMAC) makes no token for this one.
    foreign = PreviewTokens(client.app.state.engine, load_settings())  # type: ignore[attr-defined]
    foreign._secret = b"another server"
    for forged in [*_forged(token), foreign.sign(EXPERIMENT, "one-page", now)]:
        body = assert_problem(_preview(client, sdk_headers, forged), 422, "token")
        assert "not signed by this server" in body["detail"], forged


@pytest.mark.parametrize(
    "token",
    ["", "checkout-onepage:one-page", "a\x00b:c:1:" + "A" * 43, "\ud800", "x" * 10_000, "é:é:1:é"],
    ids=["empty", "unsigned", "nul", "lone-surrogate", "huge", "not-ascii"],
)
def test_malformed_tokens_are_refused_naming_the_field(
    client: TestClient, sdk_headers: Headers, token: str
) -> None:
    quoted = quote(token.encode("utf-8", "surrogatepass"), safe="")  # (a lone surrogate too)
    response = client.get(f"/v1/sdk/preview?token={quoted}", headers=sdk_headers)
    assert_problem(response, 422, "token")


def test_a_token_needs_an_sdk_key_and_a_known_experiment(
    client: TestClient, sdk_headers: Headers
) -> None:
    assert_problem(client.get("/v1/sdk/preview"), 401)
    assert_problem(client.get("/v1/sdk/preview", headers=sdk_headers), 422, "token")
    token = _tokens(client).sign("no-such-experiment", "control", datetime.now(UTC))
    assert_problem(_preview(client, sdk_headers, token), 404)
