"""The PostgreSQL settings a look's queries run with, restored afterwards."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Engine

from experiments.results.sums.sql_functions import LOOK_SETTINGS, look_rows


def test_a_look_query_runs_with_the_look_settings_and_restores_them(engine: Engine) -> None:
    with engine.connect() as connection:
        if connection.dialect.name != "postgresql":
            assert look_rows(connection, text("SELECT 1 AS one")) == [{"one": 1}]
            return
        current = text("SELECT current_setting('jit') AS jit")
        before = connection.execute(current).scalar_one()
        assert look_rows(connection, current) == [{"jit": LOOK_SETTINGS["jit"]}]
        assert connection.execute(current).scalar_one() == before
