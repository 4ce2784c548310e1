"""The commands of docs/deployment.md that the other tests do not run: `vekst db upgrade`, a
backup with pg_dump restored with pg_restore into a new database, the alert rules, whose
every metric must be in a live scrape, and the proxy example (scheme header, HSTS) with the
options of `vekst serve` it relies on."""

from __future__ import annotations

import re
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
import typer
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, make_url, text

from api.app import create_app
from api.cli import build_cli
from experiments.settings import load_settings
from tests.api.helpers import experiment_body
from tests.conftest import ADMIN_KEY, SDK_KEY
from tests.processes import VEKST, vekst_env
from tests.services import require_service

GUIDE = Path(__file__).parents[2] / "docs" / "deployment.md"


def _libpq(url: str) -> str:
    """The guide's rule: the SQLAlchemy URL without `+psycopg` is what pg_dump takes."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _populate(url: str) -> None:
    settings = load_settings(database_url=url, admin_key=ADMIN_KEY, sdk_key=SDK_KEY)
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    with TestClient(create_app(settings)) as client:
        client.post("/v1/experiments", json=experiment_body("kept"), headers=admin)
        client.post("/v1/experiments/kept/start", headers=admin)
        for unit in range(30):
            client.post(
                "/v1/assign",
                json={"unit_id": f"u{unit}", "expose": True},
                headers={"Authorization": f"Bearer {SDK_KEY}"},
            )


def _contents(url: str) -> dict[str, object]:
    """What a restore must bring back: rows per table, and who got which variant."""
    engine = create_engine(url)
    with engine.connect() as connection:
        counts = {
            table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar()
            for table in ("experiments", "exposures", "conversions", "audit_log", "api_keys")
        }
        exposed = connection.execute(
            text("SELECT unit_id, variant FROM exposures ORDER BY unit_id")
        ).all()
    engine.dispose()
    return {"counts": counts, "exposed": [tuple(row) for row in exposed]}


@pytest.mark.postgres
@pytest.mark.processes
def test_backup_and_restore_as_the_guide_says(tmp_path: Path) -> None:
    if not shutil.which("pg_dump") or not shutil.which("pg_restore"):
        pytest.skip("pg_dump and pg_restore are not installed")
    base = require_service("VEKST_TEST_POSTGRES_URL")
    name = f"vekst_guide_{uuid.uuid4().hex[:10]}"
    server = create_engine(base, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}_new"'))
    source = make_url(base).set(database=name).render_as_string(hide_password=False)
    target = make_url(base).set(database=f"{name}_new").render_as_string(hide_password=False)
    try:
        env = vekst_env({"VEKST_DATABASE_URL": source})
        upgraded = subprocess.run(
            [VEKST, "db", "upgrade"], env=env, capture_output=True, text=True, check=True
        )
        assert "database is up to date" in upgraded.stdout
        _populate(source)
        dump = tmp_path / "vekst.dump"
        subprocess.run(["pg_dump", "--format=custom", f"--file={dump}", _libpq(source)], check=True)
        subprocess.run(
            ["pg_restore", "--no-owner", f"--dbname={_libpq(target)}", str(dump)], check=True
        )
        subprocess.run(
            [VEKST, "db", "upgrade"], env=vekst_env({"VEKST_DATABASE_URL": target}), check=True,
            capture_output=True,
        )  # fmt: skip
        restored = _contents(target)
        assert restored == _contents(source)
        assert restored["counts"]["exposures"] == 30  # type: ignore[index]
    finally:
        with server.connect() as connection:
            for database in (name, f"{name}_new"):
                connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        server.dispose()


@pytest.mark.redis
def test_every_metric_of_the_alert_rules_is_exported(sqlite_url: str, redis_url: str) -> None:
    guide = GUIDE.read_text()
    rules = guide.split("```yaml", 1)[1].split("```", 1)[0]
    named = set(re.findall(r"\bvekst_[a-z_]+", rules))
    assert len(named) >= 6
    settings = load_settings(
        database_url=sqlite_url,
        admin_key=ADMIN_KEY,
        sdk_key=SDK_KEY,
        redis_url=redis_url,
        event_stream_prefix=f"{{vekst-test-{uuid.uuid4().hex[:10]}}}",
        start_worker=False,
        assign_rate_per_second=0.01,
        assign_burst=1,
    )
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    with TestClient(create_app(settings)) as client:
        event = {"type": "conversion", "unit_id": "u", "name": "purchase"}
        client.post("/v1/events", json={"events": [event, {}]}, headers=admin)
        for _ in range(2):  # the second is rate limited
            client.post("/v1/assign", json={"unit_id": "u"}, headers=admin)
        scrape = client.get("/metrics", headers=admin).text
    exported = {line.split("{")[0].split(" ")[0] for line in scrape.splitlines()}
    missing = {name for name in named if not any(e.startswith(name) for e in exported)}
    assert not missing, f"the guide's alert rules name metrics nobody exports: {missing}"


def test_the_proxy_example_sends_the_scheme_and_hsts_and_serve_takes_its_options() -> None:
    guide = GUIDE.read_text()
    nginx = guide.split("```nginx", 1)[1].split("```", 1)[0]
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in nginx
    assert "add_header Strict-Transport-Security" in nginx
    serve = typer.main.get_command(build_cli()).commands["serve"]  # type: ignore[attr-defined]
    accepted = {option for parameter in serve.params for option in parameter.opts}
    commands = re.findall(r"^vekst serve (.*)$", guide, flags=re.MULTILINE)
    used = {word for command in commands for word in command.split() if word.startswith("--")}
    assert "--forwarded-allow-ips" in used
    assert used <= accepted, used - accepted
