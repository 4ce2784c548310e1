"""The API's interactive documentation: Swagger UI at /docs, served from this server's files.

FastAPI's own /docs loads Swagger UI from a CDN and starts it with an inline script, and admins
type their key into its "Authorize" button. Here the Swagger UI files come from the
`fastapi-offline` package (installed with Vekst), the start-up script is a static file
(`static/docs.js`), and the page's Content-Security-Policy lets it load and fetch from this
server only. ReDoc is not served. `create_app` mounts this router only when
`Settings.serves_docs` (in production only with `VEKST_DOCS=true`).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path as FilePath
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Request
from fastapi.responses import FileResponse, HTMLResponse

from api.pages.access import templates

# A regular package installed as files, so its folder is a real path.
SWAGGER_UI = FilePath(str(files("fastapi_offline") / "static"))
Asset = Annotated[Literal["swagger-ui-bundle.js", "swagger-ui.css"], Path()]
MEDIA_TYPES = {".js": "text/javascript", ".css": "text/css"}
# The pages' policy, plus the scripts of this server and fetching the OpenAPI document from it.
DOCS_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)

router = APIRouter(include_in_schema=False)


@router.get("/docs")
def swagger_ui(request: Request) -> HTMLResponse:
    context = {"openapi_url": request.app.openapi_url, "title": request.app.title}
    response = templates.TemplateResponse(request, "docs.html", context)
    response.headers["Content-Security-Policy"] = DOCS_POLICY
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@router.get("/docs/assets/{name}")
def swagger_asset(name: Asset) -> FileResponse:
    """One of the two Swagger UI files, from the installed package (never from elsewhere)."""
    path = SWAGGER_UI / name
    headers = {"X-Content-Type-Options": "nosniff"}
    return FileResponse(path, media_type=MEDIA_TYPES[path.suffix], headers=headers)
