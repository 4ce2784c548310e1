"""The SDK config document (sdk key), with ETag / If-None-Match for cheap polling."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool

from api.deps import AuthFirstRoute, SdkKey, get_engine
from api.problems import PROTECTED, problem_responses
from experiments.db import session_scope
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
