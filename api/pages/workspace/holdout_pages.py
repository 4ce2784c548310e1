"""The holdouts on the page: their list, and one holdout's results (docs/pages.md, "Holdouts").

A holdout's page reads its latest stored look (`results.holdout_looks.holdout_results`, what
`GET /v1/holdouts/{key}/results` serves) and never takes one on a view: before the first look
it says so. Its readings are the experiment page's tables (`views.metric_tables` and the
`metric_table.html` partial); its power is sized at the traffic the workspace keeps
(`traffic`), so a view scans no exposures. An editor may take a new look now, as on an
experiment's page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from api.deps import SessionDep, SettingsDep
from api.pages import views
from api.pages.access import PageRoute, UserDep, checked_form, render_page
from api.pages.workspace.traffic import kept_traffic
from api.params import ExperimentKey
from experiments import holdouts
from experiments.errors import ConflictError
from experiments.models.holdout import ALL_NEW, Holdout, HoldoutStatus
from experiments.results.holdout_looks import holdout_results, power_of, take_holdout_look
from experiments.results.holdout_page import HoldoutResultsPage
from experiments.results.overview import newest_looks
from experiments.results.snapshots import latest_snapshot, look_history, stored_page
from experiments.results.words.formatting import day, percent, plural
from experiments.results.words.glossary import GLOSSARY
from experiments.results.words.holdout_words import covered_state, split_sentence

router = APIRouter(include_in_schema=False, route_class=PageRoute)


@dataclass(frozen=True, slots=True)
class HoldoutRow:
    """A line of the holdouts' list."""

    key: str
    name: str
    status: str
    share: str
    covers: str
    ends: str
    units: str
    last_look: datetime | None


@dataclass(frozen=True, slots=True)
class CoveredRow:
    key: str
    name: str
    status: str
    state: str


@router.get("/holdouts")
def holdout_list(request: Request, session: SessionDep, user: UserDep) -> Response:
    now = datetime.now(UTC)
    listed = holdouts.list_holdouts(session)
    looks = newest_looks(session, [holdout.key for holdout in listed])
    rows = []
    for holdout in listed:
        look = looks.get(holdout.key)
        units = "no look yet"
        if look is not None:
            groups = stored_page(look).metrics[0].variants
            units = " / ".join(f"{group.key} {group.n:,}" for group in groups)
        rows.append(
            HoldoutRow(
                holdout.key,
                holdout.name,
                holdouts.status_of(holdout, now).value,
                percent(holdout.share),
                _covers(session, holdout),
                day(holdouts.end_of(holdout).date()),
                units,
                None if look is None else look.computed_at,
            )
        )
    return render_page(request, "workspace/holdouts.html", {"user": user, "rows": rows})


@router.get("/holdouts/{key}")
def holdout_page(
    request: Request, key: ExperimentKey, session: SessionDep, settings: SettingsDep, user: UserDep
) -> Response:
    holdout = holdouts.get_holdout(session, key)
    now = datetime.now(UTC)
    state = holdouts.status_of(holdout, now)
    traffic = kept_traffic(request.app.state, session, holdout)
    snapshot = latest_snapshot(session, holdout.key)
    results = None
    context: dict[str, Any] = {
        "user": user,
        "holdout": holdout,
        "state": state.value,
        "facts": _facts(session, holdout, state),
        "glossary": GLOSSARY,
    }
    if snapshot is None:
        context["power"] = power_of(session, holdout, now, 0, traffic).text
    else:
        look = stored_page(snapshot)
        results = holdout_results(session, holdout, look, now, traffic)
        interval = timedelta(minutes=settings.snapshot_interval_minutes)
        final = state != HoldoutStatus.RUNNING
        context |= {
            "results": results,
            "power": results.power.text,
            "freshness": views.freshness(look, now, interval, final),
            "banners": views.banners(look),
            "split": split_sentence(results.units.holdout, results.units.measurement, look.srm),
            "tables": views.metric_tables(results.look, look_history(session, holdout.key)),
        }
    context["covered"] = _covered_rows(session, holdout, results)
    return render_page(request, "workspace/holdout.html", context)


@router.post("/holdouts/{key}/looks")
async def take_look(
    request: Request, key: ExperimentKey, session: SessionDep, user: UserDep
) -> Response:
    """Take a new look of a running holdout now (the page's "Take a new look now" form)."""
    user.require("editor")
    await checked_form(request, user)
    holdout = holdouts.get_holdout(session, key)
    state = holdouts.status_of(holdout, datetime.now(UTC))
    if state != HoldoutStatus.RUNNING:
        raise ConflictError(f"holdout '{key}' is {state}: only a running holdout takes new looks")
    await run_in_threadpool(take_holdout_look, session, key)
    return RedirectResponse(f"/holdouts/{key}", status.HTTP_303_SEE_OTHER)


def _covers(session: Session, holdout: Holdout) -> str:
    covered = plural(len(holdouts.covered_experiments(session, holdout)), "experiment")
    if holdout.experiments == ALL_NEW:
        return f"every new {holdout.unit_type} experiment ({covered} so far)"
    return covered


def _facts(session: Session, holdout: Holdout, state: HoldoutStatus) -> list[tuple[str, str]]:
    """The definition in words, as the page's facts list shows it."""
    began = holdout.created_at.strftime("%Y-%m-%d %H:%M UTC")
    ends = holdouts.end_of(holdout).strftime("%Y-%m-%d %H:%M UTC")
    ending = {"running": "Ends", "ended": "Ended", "stopped": "Stopped"}[state.value]
    return [
        (
            "Held out",
            f"{percent(holdout.share)} of {holdout.unit_type}s, measured against "
            f"another {percent(holdout.share)}",
        ),
        ("Covers", _covers(session, holdout)),
        ("Metrics", ", ".join(holdout.metrics)),
        ("Began", began),
        (ending, ends),
    ]


def _covered_rows(
    session: Session, holdout: Holdout, results: HoldoutResultsPage | None
) -> list[CoveredRow]:
    """Each covered experiment with its state; before the first look there is no summary to
    leave a shipped winner out of."""
    shipped = None if results is None else set(results.shipped)
    return [
        CoveredRow(
            experiment.key,
            experiment.name,
            experiment.status,
            covered_state(
                experiment.status,
                experiment.winner,
                experiment.variant_keys()[0],
                shipped is None or experiment.key in shipped,
            ),
        )
        for experiment in holdouts.covered_experiments(session, holdout)
    ]
