"""The workspace's routers, in the order the app includes them (before the results pages)."""

from __future__ import annotations

from fastapi import APIRouter
from markupsafe import Markup

from api.pages.access import templates
from api.pages.workspace import admin_pages, catalogue_pages, experiment_pages, lifecycle_pages
from experiments.inputs import printable

ROUTERS: tuple[APIRouter, ...] = (
    experiment_pages.router,
    lifecycle_pages.router,
    catalogue_pages.router,
    admin_pages.router,
)


def _printable(value: object) -> object:
    if isinstance(value, Markup):  # already safe HTML (a macro's output): kept as such
        return Markup(printable(str(value)))
    return printable(value) if isinstance(value, str) else value


# A refused form is shown again as typed, and what was typed may hold lone surrogates (refused
# beside their field): every value a page writes is made printable (`\udxxx`), so echoing one
# never fails to encode as UTF-8.
templates.env.finalize = _printable
