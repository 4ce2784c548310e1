"""The PostgreSQL settings a look's queries run with, restored afterwards."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Engine

from experiments.results.sums.sql_functions import LOOK_SETTINGS, SUMS_SETTINGS, look_rows


def test_a_look_query_runs_with_the_look_settings_and_restores_them(engine: Engine) -> None:
    with engine.connect() as connection:
        if connection.dialect.name != "postgresql":
            assert look_rows(connection, text("SELECT 1 AS one")) == [{"one": 1}]
            return
        current = text("SELECT current_setting('jit') AS jit")
        before = connection.execute(current).scalar_one()
        assert look_rows(connection, current) == [{"jit": LOOK_SETTINGS["jit"]}]
        assert connection.execute(current).scalar_one() == before


def test_a_query_over_every_unit_runs_without_sorts_and_restores_them(engine: Engine) -> None:
    with engine.connect() as connection:
        if connection.dialect.name != "postgresql":
            one = text("SELECT 1 AS one")
            assert look_rows(connection, one, SUMS_SETTINGS) == [{"one": 1}]
            return
        current = text(
            "SELECT current_setting('enable_sort') AS sort, current_setting('jit') AS jit"
        )
        before = connection.execute(current).mappings().one()
        assert before["sort"] == "on"
        found = look_rows(connection, current, SUMS_SETTINGS)
        assert found == [{"sort": "off", "jit": "off"}]
        assert connection.execute(current).mappings().one() == before
