"""Preview links of an experiment's no-code variants, for its page (issue #25).

A preview link opens a shop page with `?vekst_preview=<token>`, a token the server signs for
one variant (`experiments.preview_tokens`, valid for a week): the browser SDK's no-code build
then loads that experiment from `GET /v1/sdk/preview` (a draft too) and shows that variant
there, whatever the targeting, and records nothing. The shop page is taken from the
experiment's targeting when it names one (a `url` that `eq`, `starts_with` or `matches` an
http(s) address, up to the glob's first `*`); otherwise the page shows the parameter to add to
any shop address.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from experiments.models.experiment import Experiment
from experiments.preview_tokens import PreviewTokens
from experiments.sdk_config import NO_CODE_FIELDS

PREVIEW_PARAMETER = "vekst_preview"
PAGE_OPS = ("eq", "starts_with", "matches")


@dataclass(frozen=True, slots=True)
class PreviewLink:
    variant: str
    parameter: str
    """`vekst_preview=<token>`, to add to a shop address."""
    url: str | None
    """The whole link, when the targeting names a shop page."""


def preview_links(
    experiment: Experiment, tokens: PreviewTokens, now: datetime
) -> list[PreviewLink]:
    """One link per variant, each with a fresh token, or none when no variant has no-code
    changes."""
    if not any(
        variant.get(name) is not None for variant in experiment.variants for name in NO_CODE_FIELDS
    ):
        return []
    page = _targeted_page(experiment.targeting)
    links = []
    for variant in experiment.variants:
        token = tokens.sign(experiment.key, str(variant["key"]), now)
        parameter = f"{PREVIEW_PARAMETER}={quote(token, safe=':')}"
        links.append(PreviewLink(str(variant["key"]), parameter, page and _with(page, parameter)))
    return links


def _targeted_page(condition: dict[str, Any] | None) -> str | None:
    """The first http(s) address a `url` condition of the targeting names (not under `not`)."""
    if not condition:
        return None
    for combinator in ("all", "any"):
        for child in condition.get(combinator, []):
            found = _targeted_page(child)
            if found:
                return found
    value = condition.get("value")
    if condition.get("attribute") != "url" or condition.get("op") not in PAGE_OPS:
        return None
    if not isinstance(value, str):
        return None
    address = value.split("*", 1)[0]
    return (
        address
        if urlsplit(address).scheme in ("http", "https") and urlsplit(address).netloc
        else None
    )


def _with(address: str, parameter: str) -> str:
    parts = urlsplit(address)
    query = f"{parts.query}&{parameter}" if parts.query else parameter
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", query, ""))
