"""The Python SDK against a real API server: config polling, local assignment that agrees with
POST /v1/assign, and exposures and purchases that arrive once each."""

from __future__ import annotations

import httpx

from tests import local_http
from tests.api.helpers import experiment_body
from tests.conftest import ADMIN_KEY, SDK_KEY
from tests.live_server import serving_api
from vekst_sdk import Client, ClientOptions

ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}
SDK = {"Authorization": f"Bearer {SDK_KEY}"}


def test_sdk_end_to_end(sqlite_url: str) -> None:
    with serving_api(sqlite_url) as base:
        assert local_http.post(
            f"{base}/v1/experiments", json=experiment_body(), headers=ADMIN
        ).is_success
        local_http.post(f"{base}/v1/experiments/checkout-onepage/start", headers=ADMIN)

        client = Client(base, SDK_KEY, poll_interval=0.5, options=ClientOptions(flush_interval=0.1))
        try:
            assert client.wait_until_ready(timeout=10)
            units = [f"visitor-{index}" for index in range(200)]
            local = {}
            for unit in units:
                for _ in range(3):  # repeated page views: one exposure per unit
                    assignment = client.assign("checkout-onepage", unit)
                local[unit] = assignment.variant
                assert assignment.payload["layout"] in ("multi", "one")
            for unit in units[:20]:
                client.track("purchase", unit, value=649.0, properties={"payment": "vipps"})
        finally:
            client.close()

        with httpx.Client(base_url=base, headers=SDK) as server:
            for unit in units[:25]:
                answer = server.post("/v1/assign", json={"unit_id": unit}).json()
                assert answer["assignments"]["checkout-onepage"]["variant"] == local[unit]

        summary = local_http.get(f"{base}/v1/events/summary", headers=ADMIN).json()
        exposures = {row["variant"]: row["count"] for row in summary["exposures"]}
        expected: dict[str, int] = {}
        for variant in local.values():
            expected[str(variant)] = expected.get(str(variant), 0) + 1
        assert exposures == expected
        purchases = [row for row in summary["conversions"] if row["name"] == "purchase"]
        assert purchases[0]["count"] == 20
