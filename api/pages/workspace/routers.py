"""The workspace's routers and what they share in the app (`install`)."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from markupsafe import Markup

from api.pages.access import templates
from api.pages.workspace import (
    admin_pages,
    catalogue_pages,
    counts_pages,
    experiment_pages,
    holdout_pages,
    lifecycle_pages,
)
from api.pages.workspace.traffic import MeasuredBaselines, MeasuredTraffic
from api.route_table import add_routes
from experiments.inputs import printable

ROUTERS: tuple[APIRouter, ...] = (
    experiment_pages.router,
    lifecycle_pages.router,
    counts_pages.router,
    catalogue_pages.router,
    admin_pages.router,
    holdout_pages.router,
)


def _printable(value: object) -> object:
    if isinstance(value, Markup):  # already safe HTML (a macro's output): kept as such
        return Markup(printable(str(value)))
    return printable(value) if isinstance(value, str) else value


# A refused form is shown again as typed, and what was typed may hold lone surrogates (refused
# beside their field): every value a page writes is made printable (`\udxxx`), so echoing one
# never fails to encode as UTF-8.
templates.env.finalize = _printable


def install(app: FastAPI) -> None:
    """Include the workspace's routers (before the results pages' own, so `/experiments/new`
    and `.../edit` are not read as an experiment's key or action) and its measured traffic."""
    app.state.measured_traffic = MeasuredTraffic(app.state.engine)
    app.state.measured_baselines = MeasuredBaselines(app.state.engine)
    for router in ROUTERS:
        add_routes(app, router)
