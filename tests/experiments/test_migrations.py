"""Migrations apply to an empty database, and go down and up again."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import inspect, text

from experiments.db import make_engine
from experiments.migrate import downgrade, upgrade
from tests.services import fresh_postgres_schema, require_service


@pytest.fixture(params=["sqlite", "postgres"])
def empty_database(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/empty.db"
        return
    with fresh_postgres_schema(require_service("VEKST_TEST_POSTGRES_URL")) as url:
        yield url


def tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade(empty_database: str) -> None:
    upgrade(empty_database)
    assert {"api_keys", "experiments", "alembic_version"} <= tables(empty_database)
    downgrade(empty_database, "base")
    assert tables(empty_database) <= {"alembic_version"}
    upgrade(empty_database)
    upgrade(empty_database)  # idempotent
    assert {"api_keys", "experiments"} <= tables(empty_database)


def test_audit_log_migration_goes_down_to_0004_and_up_again(empty_database: str) -> None:
    upgrade(empty_database, "0005_audit_log")
    assert "audit_log" in tables(empty_database)
    downgrade(empty_database, "0004")
    assert "audit_log" not in tables(empty_database)
    assert {"api_keys", "experiments", "metrics"} <= tables(empty_database)
    upgrade(empty_database)
    assert "audit_log" in tables(empty_database)


def test_snapshots_migration_follows_the_pasted_counts_and_goes_down_again(
    empty_database: str,
) -> None:
    upgrade(empty_database, "0006_pasted_counts")
    assert "result_snapshots" not in tables(empty_database)
    upgrade(empty_database)
    assert {"result_snapshots", "webhooks", "audit_log"} <= tables(empty_database)
    downgrade(empty_database, "0006_pasted_counts")
    assert "result_snapshots" not in tables(empty_database)
    assert "audit_log" in tables(empty_database)


def test_page_sessions_migration_adds_its_tables_and_goes_down_again(empty_database: str) -> None:
    upgrade(empty_database, "0007_snapshots")
    assert "page_sessions" not in tables(empty_database)
    upgrade(empty_database)
    assert {"page_sessions", "server_secrets", "api_keys"} <= tables(empty_database)
    downgrade(empty_database, "0007_snapshots")
    assert not {"page_sessions", "server_secrets"} & tables(empty_database)
    assert "result_snapshots" in tables(empty_database)


def test_event_sources_migration_marks_existing_events_as_sdk_ones(empty_database: str) -> None:
    upgrade(empty_database, "0007_snapshots")
    engine = make_engine(empty_database)
    moment = "2026-12-01 10:00:00"
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO exposures (event_id, experiment, variant, unit_id, timestamp,"
                " received_at) VALUES ('x', 'checkout', 'a', 'u', :at, :at)"
            ),
            {"at": moment},
        )
        connection.execute(
            text(
                "INSERT INTO conversions (event_id, name, unit_id, value, timestamp, received_at)"
                " VALUES ('p', 'purchase', 'u', 649.0, :at, :at)"
            ),
            {"at": moment},
        )
    upgrade(empty_database)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT source FROM exposures")).scalar() == "sdk"
        assert connection.execute(text("SELECT source FROM conversions")).scalar() == "sdk"
    columns = {column["name"] for column in inspect(engine).get_columns("metrics")}
    indexes = {index["name"]: index for index in inspect(engine).get_indexes("conversions")}
    engine.dispose()
    assert "sources" in columns
    assert indexes["ix_conversions_results"]["column_names"][-1] == "source"
    downgrade(empty_database, "0007_snapshots")
    engine = make_engine(empty_database)
    assert "source" not in {c["name"] for c in inspect(engine).get_columns("conversions")}
    assert "sources" not in {c["name"] for c in inspect(engine).get_columns("metrics")}
    engine.dispose()
    upgrade(empty_database)


def test_metric_facts_migration_adds_its_columns_and_goes_down_again(empty_database: str) -> None:
    upgrade(empty_database)
    facts = {"counted_as", "denominator_noun", "pasted_field"}
    assert facts <= columns(empty_database, "metrics")
    downgrade(empty_database, "0010_page_sessions")
    assert not facts & columns(empty_database, "metrics")
    assert "sources" in columns(empty_database, "metrics")
    upgrade(empty_database)
    assert facts <= columns(empty_database, "metrics")


def columns(url: str, table: str) -> set[str]:
    engine = make_engine(url)
    try:
        return {column["name"] for column in inspect(engine).get_columns(table)}
    finally:
        engine.dispose()


def test_exposure_attributes_migration_leaves_old_rows_without_any(empty_database: str) -> None:
    upgrade(empty_database, "0011_metric_facts")
    engine = make_engine(empty_database)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO exposures (event_id, experiment, variant, unit_id, timestamp,"
                " received_at) VALUES ('x', 'checkout', 'a', 'u', :at, :at)"
            ),
            {"at": "2026-12-01 10:00:00"},
        )
    upgrade(empty_database)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT attributes FROM exposures")).scalar() is None
    # Experiments defined before have no dimensions: NOT NULL with the default [].
    [dimensions] = [
        c for c in inspect(engine).get_columns("experiments") if c["name"] == "dimensions"
    ]
    engine.dispose()
    assert not dimensions["nullable"] and "[]" in str(dimensions["default"])
    downgrade(empty_database, "0011_metric_facts")
    assert "attributes" not in columns(empty_database, "exposures")
    assert "dimensions" not in columns(empty_database, "experiments")
    upgrade(empty_database)
    assert "attributes" in columns(empty_database, "exposures")


def test_accounts_migration_keeps_the_keys_and_ends_the_key_logins(empty_database: str) -> None:
    upgrade(empty_database, "0012_exposure_attributes")
    engine = make_engine(empty_database)
    try:
        with engine.begin() as connection:
            for number, scope in enumerate(("admin", "sdk", "server")):
                connection.execute(
                    text(
                        "INSERT INTO api_keys (prefix, key_hash, scope, name, created_at) "
                        "VALUES (:prefix, :hash, :scope, '', '2026-12-01')"
                    ),
                    {"prefix": f"vk_{scope}", "hash": str(number) * 64, "scope": scope},
                )
            connection.execute(
                text(
                    "INSERT INTO page_sessions (id_hash, key_id, key_digest, created_at, "
                    "expires_at) VALUES (:id, NULL, :digest, '2026-12-01', '2026-12-02')"
                ),
                {"id": "a" * 64, "digest": "b" * 64},
            )
        upgrade(empty_database)
        assert {"users", "invitations", "login_failures"} <= tables(empty_database)
        assert "user_id" in columns(empty_database, "page_sessions")
        assert "user_id" in columns(empty_database, "audit_log")
        with engine.connect() as connection:
            scopes = connection.execute(text("SELECT scope FROM api_keys ORDER BY id")).scalars()
            assert list(scopes) == ["admin", "sdk", "server"]  # every key keeps working
            sessions = connection.execute(text("SELECT count(*) FROM page_sessions")).scalar()
            assert sessions == 0  # the admin-key logins ended: people log in anew
        downgrade(empty_database, "0012_exposure_attributes")
        assert not {"users", "invitations", "login_failures"} & tables(empty_database)
        assert "key_digest" in columns(empty_database, "page_sessions")
    finally:
        engine.dispose()


def test_the_ceiling_migration_puts_the_id_in_postgresqls_results_index(
    empty_database: str,
) -> None:
    def results_index() -> tuple[list[str | None], str]:
        engine = make_engine(empty_database)
        try:
            found = {i["name"]: i for i in inspect(engine).get_indexes("conversions")}
            if engine.dialect.name != "postgresql":
                return found["ix_conversions_results"]["column_names"], ""
            definition = text(
                "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema()"
                " AND indexname = 'ix_conversions_results'"
            )
            with engine.connect() as connection:
                written = connection.execute(definition).scalar_one()
            return found["ix_conversions_results"]["column_names"], written
        finally:
            engine.dispose()

    columns = ["unit_id", "name", "timestamp", "value", "source"]
    upgrade(empty_database)
    searched, written = results_index()
    assert searched == columns
    assert written.endswith("INCLUDE (id)") or "postgres" not in empty_database
    downgrade(empty_database, "0026_intake")
    searched, written = results_index()
    assert searched == columns
    assert "INCLUDE" not in written
    upgrade(empty_database)
