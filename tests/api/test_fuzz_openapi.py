"""schemathesis over the app's own OpenAPI: every operation, with the admin key and the sdk key.

Each operation gets a bounded, derandomised run of generated requests (valid ones by the schema,
and ones that break it), so CI never flakes, against PostgreSQL when the run has it. The checks:
no server error, and every response matches the schema the OpenAPI declares for it (status,
content type, body).

An operation that refuses the key (401/403 before its parameters or body are read: `AuthFirstRoute`
in api/deps.py) answers every generated request alike, so a fifth of the examples prove that
answer (a refusal that broke its schema fails on the first one); a key an operation takes gets
the full count, and every operation takes one of the two keys (`refused` asserts it), so every
body and parameter rule is still fuzzed in full.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.app import create_app
from experiments.migrate import upgrade
from experiments.settings import load_settings
from tests.api.helpers import experiment_body
from tests.conftest import ADMIN_KEY, SDK_KEY
from tests.services import fresh_postgres_schema, require_service

# Bounded for CI; VEKST_TEST_FUZZ_EXAMPLES=500 digs deeper on a developer's machine. 12 find
# what 25 found: with `list_experiments` changed to fail on an offset past a million (a 500 on a
# valid, unusual value), 8, 12 and 25 examples each failed `GET /v1/experiments`, and only it;
# with `create_experiment` changed to fail on a name longer than 40 characters, 25 passed too.
EXAMPLES_PER_OPERATION = int(os.environ.get("VEKST_TEST_FUZZ_EXAMPLES", "12"))
EXAMPLES_WHEN_REFUSED = max(1, EXAMPLES_PER_OPERATION // 5)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Known keys, so generated requests also reach experiments and metrics that exist.
SEEDED_EXPERIMENTS = ("checkout", "cta", "running-one")


def _operation_labels() -> list[str]:
    """The operations to fuzz, read from the app's routes at collection: building the OpenAPI
    and loading it in schemathesis there cost every xdist worker's start about a second.
    `test_every_operation_of_the_openapi_is_fuzzed` holds this list to the OpenAPI's."""
    app = create_app(load_settings(database_url="sqlite://", admin_key=ADMIN_KEY))
    return sorted(
        f"{method} {route.path}"
        for route in app.routes
        if isinstance(route, APIRoute) and route.include_in_schema
        for method in route.methods or ()
    )


@pytest.fixture(scope="module")
def fuzzed_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """PostgreSQL, the production database (it refuses more than SQLite: NUL in text), when
    the run has it; SQLite otherwise."""
    if os.environ.get("VEKST_TEST_POSTGRES_URL") or os.environ.get("VEKST_REQUIRE_SERVICES"):
        with fresh_postgres_schema(require_service("VEKST_TEST_POSTGRES_URL")) as url:
            upgrade(url)
            yield url
        return
    url = f"sqlite:///{Path(tmp_path_factory.mktemp('fuzz')) / 'vekst.db'}"
    upgrade(url)
    yield url


@pytest.fixture(scope="module")
def fuzzed_app(fuzzed_database: str) -> Iterator[FastAPI]:
    # No background looks: the fuzzer's requests, not a scheduler tick, are under test.
    settings = load_settings(
        database_url=fuzzed_database, admin_key=ADMIN_KEY, sdk_key=SDK_KEY, start_scheduler=False
    )
    app = create_app(settings)
    with TestClient(app) as client:
        admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
        for key in SEEDED_EXPERIMENTS:
            created = client.post("/v1/experiments", json=experiment_body(key), headers=admin)
            assert created.status_code == 201, created.text
        assert client.post("/v1/experiments/running-one/start", headers=admin).status_code == 200
        yield app


@pytest.fixture(scope="module")
def fuzzed_schema(fuzzed_app: FastAPI) -> Any:
    """The app's OpenAPI as schemathesis reads it, loaded once for the module's 40-odd tests
    (each load parses and resolves the whole document again)."""
    return schemathesis.openapi.from_asgi("/openapi.json", fuzzed_app)


@pytest.fixture(scope="module")
def refused(fuzzed_app: FastAPI, fuzzed_schema: Any) -> set[tuple[str, str]]:
    """The (operation label, key) pairs answered 401/403 to a bare request: the key alone, with
    no query and no body, decides them."""
    client = TestClient(fuzzed_app)  # the app is started already (`fuzzed_app`)
    found = set()
    for result in fuzzed_schema.get_all_operations():
        operation = result.ok()
        url = re.sub(r"\{[^}]+\}", SEEDED_EXPERIMENTS[0], operation.path)
        for key in (ADMIN_KEY, SDK_KEY):
            headers = {"Authorization": f"Bearer {key}"}
            if client.request(operation.method, url, headers=headers).status_code in (401, 403):
                found.add((operation.label, key))
    assert not any((label, ADMIN_KEY) in found for label, _ in found), found
    return found


def test_every_operation_of_the_openapi_is_fuzzed(fuzzed_schema: Any) -> None:
    operations = [result.ok().label for result in fuzzed_schema.get_all_operations()]
    assert sorted(operations) == _operation_labels()


@pytest.mark.parametrize("key", [ADMIN_KEY, SDK_KEY], ids=["admin-key", "sdk-key"])
@pytest.mark.parametrize("label", _operation_labels())
def test_no_server_error_and_every_answer_matches_its_schema(
    fuzzed_schema: Any, refused: set[tuple[str, str]], label: str, key: str
) -> None:
    operation = fuzzed_schema.find_operation_by_label(label)
    assert operation is not None
    strategy = operation.as_strategy(GenerationMode.POSITIVE) | operation.as_strategy(
        GenerationMode.NEGATIVE
    )
    headers = {"Authorization": f"Bearer {key}"}
    examples = EXAMPLES_WHEN_REFUSED if (label, key) in refused else EXAMPLES_PER_OPERATION

    @settings(
        max_examples=examples,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case: Any) -> None:
        response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS)

    run()
