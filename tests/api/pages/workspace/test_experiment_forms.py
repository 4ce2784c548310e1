"""The workspace's experiment forms over HTTP: new from a template, field errors at the API's
paths, the live plan, the edit of a draft and of a running experiment, ramp, archive, counts
and history.

On SQLite only but for the measured traffic's query: the forms store through the definitions
the API tests run on both databases."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient

from api.pages import login, routes, users
from api.pages.workspace.routers import ROUTERS
from experiments.db import make_engine, session_scope
from experiments.inputs import NUL_RULE
from experiments.models.event import Exposure
from experiments.models.experiment import RESERVED_KEYS
from experiments.settings import Settings
from tests.api.pages.workspace.helpers import (
    CTA_FORM,
    field_errors,
    post_form,
)
from tests.api.test_newsletter import newsletter
from tests.conftest import ADMIN_KEY
from tests.databases import sqlite_only

ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}


@sqlite_only
def test_each_template_fills_the_new_form(editor: TestClient) -> None:
    assert '<a href="/experiments/new">Create one from a template</a>' in editor.get("/").text
    cta = editor.get("/experiments/new?template=cta").text
    assert 'value="cta_click_rate" selected' in cta and 'id="variant-1-payload"' in cta
    checkout = editor.get("/experiments/new?template=checkout").text
    assert 'value="conversion_rate" selected' in checkout and "aov 99.9" in checkout
    letter = editor.get("/experiments/new?template=newsletter").text
    assert (
        'value="subscriber"' in letter
        and 'id="d-test_share" name="test_share" value="0.2"' in letter
    )
    blank = editor.get("/experiments/new?template=blank").text
    assert '<option value="" selected>Choose one</option>' in blank
    assert editor.get("/experiments/new?template=nonsense").status_code == 200


@sqlite_only
def test_a_cta_experiment_is_created_from_the_form(editor: TestClient) -> None:
    created = post_form(editor, "/experiments/new", CTA_FORM)
    assert created.status_code == 303, field_errors(created.text)
    assert created.headers["location"] == "/experiments/cta-text"
    stored = editor.get("/v1/experiments/cta-text", headers=ADMIN).json()
    assert [v["payload"] for v in stored["variants"]] == [
        {"text": "Add to cart"},
        {"text": "Kjøp nå", "colour": "#0b6b2f"},
    ]
    assert stored["targeting"] == {
        "all": [
            {"attribute": "country", "op": "in", "value": ["NO", "SE"]},
            {"attribute": "cart_value", "op": "gte", "value": 500},
        ]
    }
    assert stored["traffic"] == 0.5 and stored["dimensions"] == ["device", "source"]
    assert stored["metrics"]["guardrail_margins"] == {"revenue_per_visitor": 0.02}
    assert stored["design"]["baseline_rate"] == 0.05
    history = editor.get("/v1/experiments/cta-text/history", headers=ADMIN).json()
    assert history[0]["action"] == "created" and history[0]["key_name"]


@sqlite_only
def test_refusals_show_beside_their_fields_with_the_api_paths(editor: TestClient) -> None:
    assert post_form(editor, "/experiments/new", CTA_FORM).status_code == 303
    wrong = {
        **CTA_FORM,
        "variant_weight": ["1", "-1"],
        "variant_payload": ['{"text": "Add to cart"}', '{"text": '],
        "condition_value": ["NO, SE", "", ""],
        "condition_op": ["in", "gt", "eq"],
        "margins": "conversion_rate 0.02",
    }
    refused = post_form(editor, "/experiments/new", wrong)
    assert refused.status_code == 422
    errors = field_errors(refused.text)
    assert errors["variants[1].weight"] == "must be > 0"
    assert errors["variants[1].payload"].startswith("is not valid JSON")
    # Everything typed comes back as typed.
    assert "Kjøp nå" in refused.text and 'value="-1"' in refused.text
    taken = post_form(editor, "/experiments/new", CTA_FORM)
    assert taken.status_code == 422
    assert "exists already" in field_errors(taken.text)["key"]
    targeting = post_form(
        editor,
        "/experiments/new",
        {
            **CTA_FORM,
            "key": "other",
            "condition_op": ["in", "gt", "eq"],
            "condition_value": ["NO", "many", ""],
        },
    )
    assert "targeting.all[1].value" in field_errors(targeting.text)
    unknown = post_form(editor, "/experiments/new", {**CTA_FORM, "key": "x", "primary": "nope"})
    assert "is not a known metric" in field_errors(unknown.text)["metrics.primary"]


@sqlite_only
def test_the_pages_words_are_refused_as_keys_in_the_form_and_the_api(editor: TestClient) -> None:
    """Every fixed segment a page route has right under /experiments/ is reserved, so no
    experiment hides behind a page (`/experiments/new`)."""
    page_routers = [*ROUTERS, login.router, routes.router, users.router]
    paths = [getattr(route, "path", "") for router in page_routers for route in router.routes]
    fixed = {
        path.split("/")[2]
        for path in paths
        if path.startswith("/experiments/") and not path.split("/")[2].startswith("{")
    }
    assert fixed == RESERVED_KEYS == {"new"}
    for key in sorted(fixed):
        refused = post_form(editor, "/experiments/new", {**CTA_FORM, "key": key})
        assert refused.status_code == 422
        rule = f"'{key}' is reserved for the pages' /experiments/{key}"
        assert field_errors(refused.text)["key"] == rule
        body = {"key": key, "name": "N", "variants": newsletter()["variants"]}
        api = editor.post("/v1/experiments", json=body, headers=ADMIN)
        assert api.status_code == 422
        assert api.json()["errors"] == [{"field": "key", "rule": rule}]
    assert editor.get("/v1/experiments", headers=ADMIN).json()["total"] == 0


@sqlite_only
def test_buttons_that_do_not_save_re_render_the_form(editor: TestClient) -> None:
    more = post_form(editor, "/experiments/new", {**CTA_FORM, "intent": "add_variant"})
    assert more.status_code == 200 and 'id="variant-2-key"' in more.text
    assert (
        post_form(editor, "/experiments/new", {**CTA_FORM, "intent": "add_condition"}).status_code
        == 200
    )
    assert editor.get("/v1/experiments", headers=ADMIN).json()["total"] == 0


def test_the_plan_uses_typed_traffic_then_the_measured(
    editor: TestClient, settings: Settings
) -> None:
    planned = post_form(
        editor, "/experiments/new", {**CTA_FORM, "intent": "plan", "baseline_rate": "0.025"}
    )
    # 122,929 per variant (the README's figure), two variants, half of 4,000 visitors a day.
    # No recent purchases: the design's numbers size it, and the sentence says so.
    assert (
        "Needs about 123,000 visitors per variant (sized at the design&#39;s numbers: too little"
        " data in the last 14 days): about 123 days at the traffic you entered." in planned.text
    )
    engine = make_engine(settings.database_url)
    now = datetime.now(UTC)
    try:
        with session_scope(engine) as session:
            for number in range(140):
                session.add(
                    Exposure(
                        event_id=f"e{number}",
                        experiment="other",
                        variant="control",
                        unit_id=f"unit-{number}",
                        timestamp=now,
                        received_at=now,
                    )
                )
    finally:
        engine.dispose()
    measured = post_form(editor, "/experiments/new", {**CTA_FORM, "intent": "plan"})
    assert "at your traffic." in measured.text and "about 10 new visitors a day" in measured.text


@sqlite_only
def test_a_draft_is_edited_whole_and_a_running_one_shows_what_is_frozen(
    editor: TestClient,
) -> None:
    assert post_form(editor, "/experiments/new", CTA_FORM).status_code == 303
    page = editor.get("/experiments/cta-text/edit").text
    assert 'value="NO, SE"' in page and "Kjøp nå" in page
    edited = {**CTA_FORM, "name": "Buy button", "variant_weight": ["1", "3"]}
    assert post_form(editor, "/experiments/cta-text/edit", edited).status_code == 303
    stored = editor.get("/v1/experiments/cta-text", headers=ADMIN).json()
    assert stored["name"] == "Buy button" and stored["variants"][1]["weight"] == 3
    assert editor.post("/v1/experiments/cta-text/start", headers=ADMIN).status_code == 200

    running = editor.get("/experiments/cta-text/edit").text
    assert "its units were already split between these variants" in running
    assert (
        'id="variant-0-key" name="variant_key" value="control" maxlength="64" disabled' in running
    )
    # Frozen fields posted anyway are not sent; what may change, changes.
    changed = {
        **CTA_FORM,
        "name": "Buy button, running",
        "variant_weight": ["1", "9"],
        "traffic": "0.7",
    }
    assert post_form(editor, "/experiments/cta-text/edit", changed).status_code == 303
    stored = editor.get("/v1/experiments/cta-text", headers=ADMIN).json()
    assert stored["name"] == "Buy button, running" and stored["traffic"] == 0.7
    assert stored["variants"][1]["weight"] == 3
    lower = post_form(editor, "/experiments/cta-text/edit", {**changed, "traffic": "0.2"})
    assert lower.status_code == 409
    assert "traffic may only grow" in field_errors(lower.text)["form"]


@sqlite_only
def test_ramp_stop_and_archive(editor: TestClient) -> None:
    assert post_form(editor, "/experiments/new", CTA_FORM).status_code == 303
    assert editor.post("/v1/experiments/cta-text/start", headers=ADMIN).status_code == 200
    form = editor.get("/experiments/cta-text/ramp")
    assert 'name="traffic" value="1"' in form.text
    assert post_form(editor, "/experiments/cta-text/ramp", {"traffic": "0.8"}).status_code == 303
    lower = post_form(editor, "/experiments/cta-text/ramp", {"traffic": "0.3"})
    assert lower.status_code == 422
    assert "may only grow" in field_errors(lower.text)["traffic"]
    over = post_form(editor, "/experiments/cta-text/ramp", {"traffic": "2"})
    assert field_errors(over.text)["traffic"] == "must be <= 1"
    running = post_form(editor, "/experiments/cta-text/archive", {"confirm": "yes"})
    assert running.status_code == 409 and "stop it before archiving" in running.text
    stop = post_form(editor, "/experiments/cta-text/stop", {"confirm": "yes", "winner": "control"})
    assert stop.status_code == 303
    assert post_form(editor, "/experiments/cta-text/archive", {"confirm": "yes"}).status_code == 303
    assert editor.get("/v1/experiments/cta-text", headers=ADMIN).json()["status"] == "archived"
    archived = editor.get("/experiments/cta-text/edit").text
    assert "archived and cannot change" in archived
    history = editor.get("/experiments/cta-text/history").text
    for action in ("created", "started", "updated", "stopped", "archived"):
        assert f'<td class="text">{action}</td>' in history


@sqlite_only
def test_a_newsletter_s_counts_are_pasted(editor: TestClient) -> None:
    created = editor.post("/v1/experiments", json=newsletter(), headers=ADMIN)
    assert created.status_code == 201
    assert editor.post("/v1/experiments/subject-line/start", headers=ADMIN).status_code == 200
    page = editor.get("/experiments/subject-line")
    assert 'id="counts-link"' in page.text
    rows = {"sent_0": "2,000", "clicked_0": "40", "sent_1": "2000", "clicked_1": "72"}
    too_many = post_form(editor, "/experiments/subject-line/counts", {**rows, "clicked_1": "9000"})
    assert too_many.status_code == 422
    assert "cannot exceed sent" in field_errors(too_many.text)["variants[1]"]
    assert post_form(editor, "/experiments/subject-line/counts", rows).status_code == 303
    history = editor.get("/experiments/subject-line/history").text
    assert "counts" in history or "pasted" in history


@sqlite_only
def test_a_newsletter_s_report_is_pasted_whole(editor: TestClient) -> None:
    """The report fills the cells (shown to check), then the cells are saved; a row it cannot
    read is an error at its line, and nothing is saved."""
    assert editor.post("/v1/experiments", json=newsletter(), headers=ADMIN).status_code == 201
    assert editor.post("/v1/experiments/subject-line/start", headers=ADMIN).status_code == 200
    path = "/experiments/subject-line/counts"
    report = "Version\tRecipients\tUnique clicks\nA\t2 000\t40\nB\t2 000\t72\n"
    filled = post_form(editor, path, {"report": report})  # no cell typed: read, not saved
    assert filled.status_code == 200 and not field_errors(filled.text)
    assert 'name="sent_1" value="2000"' in filled.text and 'value="72"' in filled.text
    wrong = post_form(editor, path, {"report": report.replace("B\t", "C\t"), "intent": "read"})
    assert wrong.status_code == 422
    assert "'C' is not a variant" in field_errors(wrong.text)["report.line_3"]
    hostile = post_form(editor, path, {"report": "variant,sent\ncontrol,1\x00", "intent": "read"})
    assert field_errors(hostile.text)["report"] == NUL_RULE
    assert "counts" not in _entities(editor)
    cells = {"sent_0": "2000", "clicked_0": "40", "sent_1": "2000", "clicked_1": "72"}
    saved = post_form(editor, path, {"report": report, **cells, "intent": "save"})
    assert saved.status_code == 303
    assert "counts" in _entities(editor)


def _entities(client: TestClient) -> set[str]:
    history = client.get("/v1/experiments/subject-line/history", headers=ADMIN).json()
    return {entry["entity"] for entry in history}


@sqlite_only
def test_the_plan_as_text_for_the_page_s_script(editor: TestClient) -> None:
    query = "primary=conversion_rate&mde_relative=0.1&baseline_rate=0.025&visitors_per_day=4000"
    plan = editor.get(f"/plan?{query}")
    assert plan.status_code == 200 and plan.headers["content-type"].startswith("text/plain")
    assert plan.text == (
        "Needs about 123,000 visitors per variant (sized at the design's numbers: too little data"
        " in the last 14 days): about 62 days at the traffic you entered."
    )
    assert editor.get("/plan?alpha=nan&primary=conversion_rate").text.startswith("Fix the design")
    assert editor.get("/plan?primary=nope").text == "Choose a primary metric to see the plan."
    assert editor.get("/plan?variants=99").status_code == 422
    form = editor.get("/experiments/new")
    assert "script-src 'self'" in form.headers["content-security-policy"]
    assert editor.get("/static/plan.js").status_code == 200
