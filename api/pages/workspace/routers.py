"""The workspace's routers, in the order the app includes them (before the results pages)."""

from __future__ import annotations

from fastapi import APIRouter

from api.pages.workspace import experiment_pages

ROUTERS: tuple[APIRouter, ...] = (experiment_pages.router,)
