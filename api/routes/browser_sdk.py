"""The browser SDK's bundles where the README's script tag points: `/static/vekst.min.js` (the
classic script) and `/static/vekst.min.mjs` (the ES module), and the same pair of the segments
build (`vekst-segments.min.js`, `.mjs`: exposures carry the experiment's dimensions) and of
the no-code build (`vekst-nocode.min.js`, `.mjs`: `autoApply` shows no-code changes).

They are the builds of `sdk/js`, committed in `api/browser_sdk/` so the server needs no Node;
sdk/js's own tests fail when a fresh build differs (`make browser-sdk` rebuilds and copies).
Any site may load them (`Access-Control-Allow-Origin: *`, needed by `<script type="module">`);
browsers keep them an hour and then revalidate with the ETag.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter, Request, Response

from experiments.errors import NotFoundError

BUNDLE_DIRECTORY = Path(__file__).resolve().parent.parent / "browser_sdk"
BUNDLE_NAMES = (
    "vekst.min.js",
    "vekst.min.mjs",
    "vekst-segments.min.js",
    "vekst-segments.min.mjs",
    "vekst-nocode.min.js",
    "vekst-nocode.min.mjs",
)
MAX_AGE_SECONDS = 3600


@dataclass(frozen=True, slots=True)
class Bundle:
    """One bundle's bytes and the strong ETag of those bytes."""

    body: bytes
    etag: str


def load_bundles(directory: Path = BUNDLE_DIRECTORY) -> dict[str, Bundle]:
    """The bundles found in `directory`, by file name (read once, when the app is built)."""
    bundles: dict[str, Bundle] = {}
    for name in BUNDLE_NAMES:
        path = directory / name
        if path.is_file():
            body = path.read_bytes()
            bundles[name] = Bundle(body, f'"{hashlib.sha256(body).hexdigest()[:32]}"')
    return bundles


router = APIRouter(include_in_schema=False)


def _serve(name: str) -> Callable[[Request], Awaitable[Response]]:
    async def serve(request: Request) -> Response:
        bundle = request.app.state.browser_bundles.get(name)
        if bundle is None:
            raise NotFoundError(
                f"this installation has no {name}; build it with `make browser-sdk` "
                "(Node 20 and npm), which copies sdk/js/dist into api/browser_sdk/"
            )
        headers = {
            "ETag": bundle.etag,
            "Cache-Control": f"public, max-age={MAX_AGE_SECONDS}",
            "Access-Control-Allow-Origin": "*",
            "Cross-Origin-Resource-Policy": "cross-origin",
            "X-Content-Type-Options": "nosniff",
        }
        sent = request.headers.get("if-none-match", "")
        if bundle.etag in [tag.strip() for tag in sent.split(",")]:
            return Response(status_code=304, headers=headers)
        return Response(bundle.body, media_type="text/javascript", headers=headers)

    return serve


for _name in BUNDLE_NAMES:
    router.add_api_route(f"/static/{_name}", _serve(_name), methods=["GET"])
