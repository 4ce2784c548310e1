"""Accounts in real headless Chromium: an admin invites a colleague, who sets a password and
logs in; the audit log names each of them; a viewer sees no write control and a forged POST
from their session is a 403; hostile values get field errors; the users page fits a phone."""

from __future__ import annotations

import pytest

from tests import local_http
from tests.accounts import add_user, email_of, log_in_page
from tests.api.helpers import experiment_body
from tests.browser import shared_chromium
from tests.conftest import ADMIN_KEY
from tests.live_server import serving_api

ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}
CHOSEN = "amber kettles hum quietly"


@pytest.mark.browser
def test_an_invited_colleague_joins_and_a_viewer_changes_nothing(sqlite_url: str) -> None:
    add_user(sqlite_url, "admin")
    add_user(sqlite_url, "viewer")
    with shared_chromium() as browser, serving_api(sqlite_url) as api:
        local_http.post(
            f"{api}/v1/experiments", json=experiment_body(key="cta"), headers=ADMIN
        ).raise_for_status()

        # The admin makes an invitation; a taken e-mail is refused beside its field first.
        admin = browser.new_context().new_page()
        log_in_page(admin, api, "admin")
        admin.goto(f"{api}/users")
        admin.fill("#invite-email", email_of("viewer"))
        admin.click("text=Make an invitation link")
        assert "belongs to an account already" in admin.inner_text("#email-error")
        admin.fill("#invite-email", "kari@shop.example")
        admin.select_option("#invite-role", "editor")
        admin.click("text=Make an invitation link")
        link = admin.inner_text("#invitation-url")
        assert link.startswith(f"{api}/invitations/")

        # The colleague opens the link, sets a password (after a mistake) and is logged in.
        invitee = browser.new_context().new_page()
        invitee.goto(link)
        assert invitee.inner_text("#invited-email") == "kari@shop.example"
        invitee.fill("#password", CHOSEN)
        invitee.fill("#password_again", CHOSEN + "!")
        invitee.click("text=Set password and log in")
        assert "must repeat the password" in invitee.inner_text("#password_again-error")
        invitee.fill("#password", CHOSEN)
        invitee.fill("#password_again", CHOSEN)
        invitee.click("text=Set password and log in")
        invitee.wait_for_url(f"{api}/")
        assert invitee.inner_text("#who") == "kari@shop.example (editor)"

        # As an editor they start the experiment from its page.
        invitee.goto(f"{api}/experiments/cta")
        invitee.click("text=Start the experiment")
        invitee.click("text=Yes, start it")
        invitee.wait_for_url(f"{api}/experiments/cta")
        entries = local_http.get(f"{api}/v1/audit", headers=ADMIN).json()["items"]
        by_action = {entry["action"]: entry["key_name"] for entry in entries}
        assert by_action["invited"] == email_of("admin")
        assert by_action["started"] == "kari@shop.example"

        # A viewer reads the same page with no control to change it; a forged POST is a 403.
        viewer_context = browser.new_context(viewport={"width": 375, "height": 812})
        viewer = viewer_context.new_page()
        log_in_page(viewer, api, "viewer")
        viewer.goto(f"{api}/experiments/cta")
        assert viewer.locator("form[method=post]").count() == 1  # the log-out only
        assert viewer.locator("text=Stop the experiment").count() == 0
        viewer.goto(f"{api}/users")
        assert viewer.locator("form[method=post]").count() == 1
        overflow = viewer.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0
        viewer.goto(f"{api}/account")
        csrf = viewer.get_attribute("input[name=csrf]", "value")
        forged = viewer_context.request.post(
            f"{api}/experiments/cta/stop", form={"csrf": csrf or "", "confirm": "yes"}
        )
        assert forged.status == 403
        assert (
            local_http.get(f"{api}/v1/experiments/cta", headers=ADMIN).json()["status"] == "running"
        )
        for context in (viewer_context, invitee.context, admin.context):
            context.close()
