"""Results broken down by segment (issue #23): `GET .../results?dimension=`, `vekst results
--by` and the results page's Segments section, against the raw units of each level; bad and
hostile input is a 422 naming the field or `other`, never a 5xx nor a lost event."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from html import escape
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from api.cli import build_cli
from experiments.db import make_engine
from experiments.metrics import builtin_metrics
from experiments.models.event import Exposure
from experiments.results.page import ResultsPage
from experiments.results.readings.metric_analysis import stats_inputs
from experiments.results.sums.aggregation import VariantSums
from experiments.results.sums.levels import MAX_LEVELS, NONE_LEVEL, OTHER_LEVEL
from experiments.results.words.segment_words import differ_line
from experiments.settings import Settings
from stats import AnalysisOptions, analyze_stats
from tests.accounts import log_in
from tests.api.helpers import (
    assert_problem,
    experiment_body,
    past_events,
    send_raw_events,
    start_checkout,
)
from tests.experiments.results.simulation import (
    RawEvents,
    reference_sums,
    simulate_shop,
    with_attributes,
)
from tests.experiments.results.test_segments_that_differ import DAYS, PLANNED, devices_shop
from tests.stats.helpers import statsmodels_adjusted

Headers = dict[str, str]
VARIANTS = ("multi-step", "one-page")


def results(client: TestClient, headers: Headers, key: str, **params: str) -> Any:
    response = client.get(f"/v1/experiments/{key}/results", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def level_units(raw: RawEvents, first: dict[str, dict[str, Any]], dimension: str) -> Any:
    """Each level's units (of one variant only) from the raw exposures."""
    variants: dict[str, set[str]] = {}
    for row in raw.exposures:
        variants.setdefault(row["unit_id"], set()).add(row["variant"])
    found: dict[str, set[str]] = {}
    for unit, attributes in first.items():
        if len(variants[unit]) == 1:
            value = attributes.get(dimension)
            found.setdefault(NONE_LEVEL if value is None else str(value), set()).add(unit)
    return found


def only_units(raw: RawEvents, units: set[str]) -> RawEvents:
    return RawEvents(
        [row for row in raw.exposures if row["unit_id"] in units],
        [row for row in raw.conversions if row["unit_id"] in units],
    )


def test_each_levels_readings_equal_the_raw_units_of_that_level(
    client: TestClient, admin_headers: Headers, cli_settings: Settings
) -> None:
    key = start_checkout(client, admin_headers)
    now = datetime.now(UTC)
    simulated = simulate_shop(
        900, 0.3, seed=8, experiment=key, start=now - timedelta(days=5), variants=VARIANTS
    )
    first = with_attributes(simulated, seed=2)
    raw = past_events(simulated, now - timedelta(minutes=1))
    send_raw_events(client, admin_headers, raw)
    whole = results(client, admin_headers, key)
    assert "segments" not in whole
    page = results(client, admin_headers, key, dimension="device")
    # The breakdown is of the same look, and a segment never changes the verdict.
    assert page["look"] == whole["look"]
    assert page["decision"] == whole["decision"] and page["summary"] == whole["summary"]
    segments = page["segments"]
    assert segments["dimension"] == "device" and segments["exploratory"] is True
    assert "not for the ship decision" in segments["note"]
    assert segments["dimensions"] == ["device", "source", "visitor_type", "market"]
    end = datetime.fromisoformat(page["as_of"])
    expected_units = level_units(raw, first, "device")
    assert {level["level"] for level in segments["levels"]} == set(expected_units)
    # A quantile metric has no per-level sums, so it is not broken down (docs/results.md).
    summed = [m for m in whole["metrics"] if builtin_metrics()[m["metric"]].kind != "quantile"]
    family = len(segments["levels"]) * (len(VARIANTS) - 1) * len(summed)
    assert segments["family"] == family
    alpha = 0.05
    p_values, adjusted = [], []
    for level in segments["levels"]:
        units = expected_units[level["level"]]
        subset = only_units(raw, units)
        assert sum(level["units"].values()) == len(units)
        for metric in level["metrics"]:
            definition = builtin_metrics()[metric["metric"]]
            if whole_cap := next(
                m["cap"] for m in whole["metrics"] if m["metric"] == definition.key
            ):
                definition = definition.model_copy(update={"cap": whole_cap["value"]})
            reference = reference_sums(subset, definition, end, experiment=key, cuped=True)
            sums = {v: VariantSums.from_fields(reference[v]) for v in VARIANTS if v in reference}
            if len(sums) < len(VARIANTS) or any(s.totals.n < 2 for s in sums.values()):
                continue
            # Each value per variant: the level's raw units' own mean (or ratio of sums).
            for got, variant in zip(metric["variants"], VARIANTS, strict=True):
                assert got["n"] == sums[variant].totals.n
                totals = sums[variant].totals
                denominator = totals.denominator_sum
                want = totals.numerator_sum / denominator if denominator else None
                assert got["value"] == (None if want is None else pytest.approx(want, rel=1e-9))
            options = AnalysisOptions(
                alpha / family, planned_units_per_variant=page["planned_units_per_variant"]
            )
            direct = analyze_stats(stats_inputs(definition, sums), options).comparisons[0]
            [comparison] = metric["comparisons"]
            if direct.p_value is None:
                assert comparison["p_value"] is None
                continue
            assert comparison["p_value"] == pytest.approx(direct.p_value, rel=1e-9)
            sequential, direct_p = comparison["sequential"], direct.sequential.p_value
            assert direct_p is not None
            assert sequential["p_value"] == pytest.approx(direct_p, rel=1e-9)
            assert sequential["p_value_adjusted"] == pytest.approx(
                min(1.0, family * direct_p), rel=1e-9
            )
            assert sequential["absolute"] == pytest.approx(
                direct.sequential.absolute.to_dict(), rel=1e-9
            )
            p_values.append(comparison["p_value"])
            adjusted.append(comparison["p_value_adjusted"])
    assert len(p_values) >= 3
    # Holm over the whole breakdown's family, as statsmodels computes it.
    holm = statsmodels_adjusted(p_values, "holm")
    assert np.all(np.isclose(adjusted, np.minimum(holm, 1.0), rtol=1e-9, atol=0))

    # For an earlier moment the breakdown is computed from that moment's sums.
    earlier = results(client, admin_headers, key, dimension="device", as_of=page["as_of"])
    assert [level["units"] for level in earlier["segments"]["levels"]] == [
        level["units"] for level in segments["levels"]
    ]

    # The command line and the page show the same levels.
    printed = CliRunner().invoke(build_cli(), ["results", key, "--by", "device"])
    assert printed.exit_code == 0, printed.output
    assert "Segments by device" in printed.output and "device = mobile" in printed.output
    assert "not for the ship decision" in printed.output
    as_json = CliRunner().invoke(build_cli(), ["results", key, "--by", "device", "--json"])
    assert json.loads(as_json.output)["segments"] == segments
    wrong = CliRunner().invoke(build_cli(), ["results", key, "--by", "plan"])
    assert wrong.exit_code == 2 and "device, source, visitor_type, market" in wrong.output
    log_in(client)
    html = client.get(f"/experiments/{key}?dimension=market").text
    assert 'id="segments"' in html and "market = NO" in html
    assert '<option value="market" selected>' in html
    assert f'href="/experiments/{key}?dimension=device#segments"' in html
    fallback = client.get(f"/experiments/{key}?dimension=nope").text
    assert "device = mobile" in fallback and "no dimension “nope”" in fallback


UNITS_IN_MANY_MARKETS = 2_000
BAD_DIMENSIONS = ("plan", "dev%00ice", "%ED%B2%80", "%FF", "d" * 129, "")
"""Unknown, NUL, a lone surrogate and a byte that is no UTF-8 (sent percent-encoded), too long,
empty."""


def test_a_dimension_the_experiment_lacks_is_422_naming_it(
    client: TestClient, admin_headers: Headers
) -> None:
    key = start_checkout(client, admin_headers)
    for dimension in BAD_DIMENSIONS:
        url = f"/v1/experiments/{key}/results?dimension={dimension}"
        assert_problem(client.get(url, headers=admin_headers), 422, "dimension")
    bare = start_checkout(client, admin_headers, key="bare", dimensions=[])
    response = client.get(
        f"/v1/experiments/{bare}/results", params={"dimension": "device"}, headers=admin_headers
    )
    assert "names no dimensions" in assert_problem(response, 422, "dimension")["detail"]
    # A name a query could not address is refused when the experiment is defined.
    for name in ('dev"ice', "dev\\ice", "dev\nice"):
        body = experiment_body(key="other", dimensions=["device", name])
        response = client.post("/v1/experiments", json=body, headers=admin_headers)
        assert_problem(response, 422, "dimensions[1]")


def test_fifteen_hundred_levels_become_other_and_no_event_is_lost(
    client: TestClient, admin_headers: Headers, sdk_headers: Headers, database_url: str
) -> None:
    """2,000 units, a quarter in market NO and each other one in a market of its own: 1,501
    levels, 75 times `MAX_LEVELS` and more than the few hundred attribute combinations the
    per-unit query expects, so the merge into `other` is as hard pressed as by the 10,000 units
    this test once sent (5 times the time)."""
    key = start_checkout(client, admin_headers)
    now = datetime.now(UTC) - timedelta(minutes=5)
    raw = RawEvents()
    for index in range(UNITS_IN_MANY_MARKETS):
        market = "NO" if index % 4 == 0 else f"m{index}"
        variant = VARIANTS[index % 2]
        raw.expose(f"u{index}", variant, now, key, attributes={"market": market})
    send_raw_events(client, admin_headers, raw)
    # An attribute with NUL rejects its exposure alone (422 naming it, docs/events.md).
    bad = {**raw.exposures[0], "event_id": "nul", "timestamp": now.isoformat()}
    bad |= {"type": "exposure", "attributes": {"market": "x\u0000"}, "received_at": None}
    del bad["received_at"], bad["source"]
    refused = client.post("/v1/events", json={"events": [bad]}, headers=sdk_headers)
    assert refused.status_code == 202, refused.text
    assert [r["errors"][0]["field"] for r in refused.json()["rejected"]] == ["attributes.market"]
    engine = make_engine(database_url)
    with engine.connect() as connection:
        stored = connection.execute(select(func.count()).select_from(Exposure)).scalar_one()
    engine.dispose()
    assert stored == UNITS_IN_MANY_MARKETS
    segments = results(client, admin_headers, key, dimension="market")["segments"]
    levels = [level["level"] for level in segments["levels"]]
    assert len(levels) == MAX_LEVELS + 1 and levels[0] == "NO" and levels[-1] == OTHER_LEVEL
    total = sum(sum(level["units"].values()) for level in segments["levels"])
    assert total == UNITS_IN_MANY_MARKETS


def test_a_look_taken_before_a_dimension_was_named_reads_back_without_levels(
    client: TestClient, admin_headers: Headers
) -> None:
    key = start_checkout(client, admin_headers, dimensions=[])
    now = datetime.now(UTC) - timedelta(minutes=5)
    raw = RawEvents()
    for index in range(40):
        raw.expose(f"u{index}", VARIANTS[index % 2], now, key, attributes=None)
    send_raw_events(client, admin_headers, raw)
    before = results(client, admin_headers, key)
    patched = client.patch(
        f"/v1/experiments/{key}", json={"dimensions": ["device"]}, headers=admin_headers
    )
    assert patched.status_code == 200, patched.text
    page = results(client, admin_headers, key, dimension="device")
    assert page["look"] == before["look"]
    assert page["segments"]["levels"] == []
    fresh = results(client, admin_headers, key, dimension="device", fresh="true")
    [level] = fresh["segments"]["levels"]
    assert level["level"] == NONE_LEVEL and sum(level["units"].values()) == 40


def test_a_segment_that_differs_is_the_same_on_the_api_the_command_line_and_the_page(
    client: TestClient, admin_headers: Headers, cli_settings: Settings
) -> None:
    """A mobile-only effect sent through the API: `segments_that_differ` names device/mobile
    on the JSON, `vekst results` and the results page print it, and the summary says it."""
    key = start_checkout(client, admin_headers, design=PLANNED)
    now = datetime.now(UTC)
    start = now - timedelta(days=DAYS + 1)
    simulated = devices_shop(6000, 0.6, seed=5, experiment=key, variants=VARIANTS, start=start)
    send_raw_events(client, admin_headers, past_events(simulated, now - timedelta(minutes=1)))
    page = results(client, admin_headers, key)
    found = page["segments_that_differ"]
    mobile = found[0]
    assert (mobile["dimension"], mobile["level"], mobile["variant"]) == (
        "device",
        "mobile",
        "one-page",
    )
    assert "Segments (exploratory, the verdict stands): one-page: +" in page["summary"]
    printed = CliRunner().invoke(build_cli(), ["results", key])
    assert printed.exit_code == 0, printed.output
    assert "Segments that differ" in printed.output
    line = differ_line(ResultsPage.model_validate(page).segments_that_differ[0])  # type: ignore[index]
    assert line in " ".join(printed.output.split())
    as_json = CliRunner().invoke(build_cli(), ["results", key, "--json"])
    assert json.loads(as_json.output)["segments_that_differ"] == found
    log_in(client)
    html = client.get(f"/experiments/{key}").text
    assert 'id="segments-differ"' in html and f"<li>{escape(line, quote=False)}</li>" in html
