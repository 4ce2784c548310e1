"""`vekst demo`: a checkout experiment fed with simulated shop traffic through the public API.

Everything goes over HTTP (`POST /v1/experiments`, `/start`, `POST /v1/events`,
`GET .../results`), exactly as a shop would, so the demo also checks a running server end to end.
The traffic follows the figures of a typical Norwegian shop: 2.5 % purchase conversion in the
control, 70 % of carts abandoned, an order value around 650 NOK with a long (lognormal) tail.
Each exposure says the visitor's `device` (half of them on mobile, 45 % on desktop, 5 % on a
tablet), and the one-page checkout helps on mobile only, so the results broken down by device
(`?dimension=device`, printed at the end) show the effect on mobile and none elsewhere.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Protocol

import httpx
import numpy as np
import typer
from rich.console import Console

from api.cli.results import render_results, render_segments, wide_console
from experiments.results.page import ResultsPage
from experiments.results.words.formatting import count

BASELINE_CONVERSION = 0.025
CART_ABANDONMENT = 0.70
AOV_SIGMA = 0.8  # lognormal spread: a long tail of large orders
AOV_MEAN_NOK = 650.0
BATCH = 5000
DEVICES = (("mobile", 0.5), ("desktop", 0.45), ("tablet", 0.05))
"""The visitors' devices and their shares; the one-page checkout helps on mobile only."""


class HttpClient(Protocol):
    """What the demo needs of an HTTP client: httpx.Client, or a test client of the app."""

    def request(self, method: str, url: str, *, json: Any = None) -> Any: ...


@dataclass(frozen=True, slots=True)
class Traffic:
    """What the simulated shop looks like."""

    visitors: int
    uplift: float
    days: int
    seed: int


def simulate(traffic: Traffic, experiment: str, now: datetime) -> Iterator[dict[str, Any]]:
    """Wire-format events: each visitor's exposure (with its `device`), then add to cart,
    checkout and purchase.

    On mobile the one-page variant converts `uplift` more (relative) by abandoning fewer carts;
    on other devices it changes nothing, and order values do not change. All timestamps lie in
    the past `days` days.
    """
    rng = np.random.default_rng(traffic.seed)
    add_to_cart = BASELINE_CONVERSION / (1 - CART_ABANDONMENT)
    mu = np.log(AOV_MEAN_NOK) - AOV_SIGMA**2 / 2
    span = traffic.days * 86400.0
    names = [name for name, _ in DEVICES]
    shares = [share for _, share in DEVICES]
    for index in range(traffic.visitors):
        unit = f"demo-{experiment}-{index}"
        variant = "one-page" if rng.random() < 0.5 else "multi-step"
        seen = now - timedelta(seconds=float(rng.uniform(60.0, span)))
        device = str(rng.choice(names, p=shares))
        attributes = {"device": device}
        yield _event(
            "exposure", unit, seen, experiment=experiment, variant=variant, attributes=attributes
        )
        if rng.random() >= add_to_cart:
            continue
        carted = seen + timedelta(minutes=float(rng.uniform(1, 30)))
        yield _event("conversion", unit, carted, name="add_to_cart")
        purchase = BASELINE_CONVERSION / add_to_cart
        if variant == "one-page" and device == "mobile":
            purchase *= 1 + traffic.uplift
        if rng.random() < 0.8:
            yield _event("conversion", unit, carted + timedelta(minutes=1), name="checkout_started")
        if rng.random() < purchase:
            value = round(float(rng.lognormal(mu, AOV_SIGMA)), 2)
            bought = carted + timedelta(minutes=3)
            yield _event("conversion", unit, bought, name="purchase", value=value)
            if rng.random() < 0.03:
                yield _event("conversion", unit, bought + timedelta(seconds=30), name="refund")


def _event(kind: str, unit: str, at: datetime, **fields: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "unit_id": unit,
        "timestamp": min(at, datetime.now(UTC)).isoformat(),
        **fields,
    }


def demo(
    api_url: Annotated[str, typer.Option(help="The Vekst server.")] = "http://127.0.0.1:8000",
    admin_key: Annotated[
        str, typer.Option(envvar="VEKST_ADMIN_KEY", help="An admin key (or VEKST_ADMIN_KEY).")
    ] = "",
    visitors: Annotated[int, typer.Option(min=100, help="Simulated visitors.")] = 40_000,
    uplift: Annotated[
        float,
        typer.Option(
            min=-0.9,
            help="True relative uplift of one-page on conversion, on mobile (none elsewhere).",
        ),
    ] = 0.5,
    days: Annotated[int, typer.Option(min=1, max=60, help="Days the traffic spreads over.")] = 7,
    seed: Annotated[int, typer.Option(help="Random seed, for a repeatable run.")] = 1,
) -> None:
    """Create a checkout experiment (one-page vs multi-step), send traffic, print the results."""
    if not admin_key:
        typer.echo("an admin key is needed: pass --admin-key or set VEKST_ADMIN_KEY", err=True)
        raise typer.Exit(2)
    console = wide_console()
    headers = {"Authorization": f"Bearer {admin_key}"}
    with httpx.Client(base_url=api_url, headers=headers, timeout=60.0) as client:
        key, page = run_demo(client, Traffic(visitors, uplift, days, seed), console)
    render_results(page, console)
    if page.segments is not None:
        render_segments(page, page.segments, console)
    console.print(
        "\nWhere to look next:\n"
        f"  web page:   {api_url}/experiments/{key} (log in: vekst users create)\n"
        f"  JSON:       GET {api_url}/v1/experiments/{key}/results\n"
        f"  per day:    GET {api_url}/v1/experiments/{key}/results/timeseries"
        "?metric=conversion_rate\n"
        f"  terminal:   vekst results {key} --by device\n"
        "  the rules:  docs/results.md",
        # Soft wrapping leaves long URLs whole, so they stay clickable and copyable.
        soft_wrap=True,
    )


def run_demo(client: HttpClient, traffic: Traffic, console: Console) -> tuple[str, ResultsPage]:
    """Create and start a demo experiment through `client`, send its traffic, fetch results.

    `client` carries the base URL and the admin key; returns the key and the results page.
    """
    key = f"checkout-demo-{secrets.token_hex(3)}"
    _call(client, "POST", "/v1/experiments", json=demo_experiment(key))
    _call(client, "POST", f"/v1/experiments/{key}/start")
    console.print(f"created and started experiment [bold]{key}[/]; sending traffic ...")
    sent = 0
    batch: list[dict[str, Any]] = []
    # The traffic ends at the last midnight (UTC): the daily looks then cut it at the same
    # moments whatever the hour, so the demo's pages read the same at any time of day.
    midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    for event in simulate(traffic, key, midnight):
        batch.append(event)
        if len(batch) == BATCH:
            sent += _send(client, batch)
            batch = []
    sent += _send(client, batch)
    console.print(f"sent {count(sent)} events for {count(traffic.visitors)} visitors")
    # A fresh look: one the scheduler took while the traffic was still arriving would be served
    # otherwise, and the figures would depend on when its tick fell.
    page = _call(client, "GET", f"/v1/experiments/{key}/results?dimension=device&fresh=true")
    return key, ResultsPage.model_validate(page)


def demo_experiment(key: str) -> dict[str, Any]:
    """The demo's experiment definition: the one-page checkout against the multi-step one."""
    return {
        "key": key,
        "name": "One-page checkout (demo)",
        "hypothesis": "A one-page checkout raises purchase conversion",
        "template": "checkout",
        "variants": [
            {
                "key": "multi-step",
                "name": "Multi-step",
                "weight": 1,
                "payload": {"layout": "multi"},
            },
            {"key": "one-page", "name": "One page", "weight": 1, "payload": {"layout": "one"}},
        ],
    }


def _send(client: HttpClient, batch: list[dict[str, Any]]) -> int:
    if not batch:
        return 0
    result = _call(client, "POST", "/v1/events", json={"events": batch})
    if result.get("rejected"):
        first = result["rejected"][0]
        raise typer.BadParameter(f"the server rejected events, e.g. {first}")
    return len(batch)


def _call(client: HttpClient, method: str, path: str, json: Any = None) -> dict[str, Any]:
    try:
        response = client.request(method, path, json=json)
    except httpx.RequestError as error:
        tried = error.request.url.copy_with(userinfo=b"", query=None)
        typer.echo(
            f"Could not reach a Vekst server at {tried} ({error}). Start one with `make run`, "
            "or point the demo at yours with --api-url URL (default http://127.0.0.1:8000).",
            err=True,
        )
        raise typer.Exit(1) from error
    if response.status_code >= 400:
        typer.echo(f"{method} {path} failed ({response.status_code}): {response.text}", err=True)
        raise typer.Exit(1)
    body: dict[str, Any] = response.json()
    return body


def register(cli: typer.Typer) -> None:
    cli.command()(demo)
