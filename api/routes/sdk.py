"""The SDK config document (sdk key), with ETag / If-None-Match for cheap polling, and the
preview document of one experiment (a draft too) for a signed preview token."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from api.deps import AuthFirstRoute, SdkKey, get_engine
from api.problems import PROTECTED, problem_responses
from experiments.db import session_scope
from experiments.preview_tokens import MAX_TOKEN_LENGTH, PreviewTokens
from experiments.sdk_config import SdkConfig, build_sdk_config

router = APIRouter(
    route_class=AuthFirstRoute,
    responses=problem_responses(*PROTECTED),
    prefix="/v1/sdk",
    tags=["sdk"],
)


def _load(request: Request) -> SdkConfig:
    with session_scope(get_engine(request)) as session:
        return build_sdk_config(session)


@router.get(
    "/config",
    responses={304: {"description": "The config is unchanged since the ETag sent"}},
)
async def get_sdk_config(request: Request, _key: SdkKey) -> Response:
    config = await run_in_threadpool(_load, request)
    headers = {"ETag": config.etag, "Cache-Control": "no-cache"}
    sent = request.headers.get("if-none-match", "")
    if config.etag in [tag.strip() for tag in sent.split(",")]:
        return Response(status_code=304, headers=headers)
    return Response(config.body, media_type="application/json", headers=headers)


def _preview(request: Request, token: str) -> dict[str, Any]:
    tokens: PreviewTokens = request.app.state.preview_tokens
    with session_scope(get_engine(request)) as session:
        return tokens.read(session, token, datetime.now(UTC)).document()


@router.get("/preview", responses=problem_responses(404))
async def get_sdk_preview(
    request: Request,
    _key: SdkKey,
    token: Annotated[
        str,
        Query(
            max_length=MAX_TOKEN_LENGTH,
            description="The preview link's `vekst_preview` value, signed by this server.",
        ),
    ],
) -> Response:
    """The token's experiment alone, as a config document (a draft reads as running): what
    the browser SDK shows on a preview link, recording nothing. Never cached."""
    document = await run_in_threadpool(_preview, request, token)
    return JSONResponse(document, headers={"Cache-Control": "no-store"})
