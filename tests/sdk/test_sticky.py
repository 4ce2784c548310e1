"""Sticky stores and holdouts in the Python client: the memory store's bound, a failing store,
the Redis store (a real Redis, db 15), holdout exposures and the config's validation."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import redis

from tests.sdk.fake_server import FakeServer, config_document, config_experiment, online
from vekst_sdk import AssignmentReason, Client, ClientOptions, ConfigError, MemoryStickyStore
from vekst_sdk.spec import Evaluator, holdout_hash, validate_config
from vekst_sdk.sticky_redis import RedisStickyStore

EXPERIMENT = "checkout-onepage"
HOLDOUT = {
    "key": "holdout-q1",
    "salt": "5eed",
    "share": 0.1,
    "unit_type": "visitor",
    "experiments": [EXPERIMENT],
}


def _group_of(unit_id: str) -> str:
    threshold = int(HOLDOUT["share"] * 2**32)  # type: ignore[operator]
    hashed = holdout_hash(str(HOLDOUT["salt"]), unit_id)
    return "holdout" if hashed < threshold else "measurement" if hashed < 2 * threshold else ""


def _unit_in(group: str) -> str:
    return next(f"visitor-{n}" for n in range(10_000) if _group_of(f"visitor-{n}") == group)


def test_the_memory_store_keeps_the_most_recently_used_entries() -> None:
    store = MemoryStickyStore(max_entries=2)
    store.put("e", 1, "a", "v0")
    store.put("e", 1, "b", "v1")
    assert store.get("e", 1, "a") == "v0"  # a is now the most recent
    store.put("e", 1, "c", "v0")
    assert (store.get("e", 1, "a"), store.get("e", 1, "b"), len(store)) == ("v0", None, 2)
    assert store.get("e", 2, "a") is None  # another version is another entry
    with pytest.raises(ValueError, match="max_entries"):
        MemoryStickyStore(max_entries=0)


def test_a_client_keeps_units_through_a_weight_change() -> None:
    store = MemoryStickyStore()
    options = ClientOptions(sticky_store=store)
    before = Client.from_config(config_document(sticky_version=1), options=options)
    first = {f"u{n}": before.assign(EXPERIMENT, f"u{n}").variant for n in range(200)}
    variants = config_experiment()["variants"]
    moved = [{**variants[0], "weight": 1}, {**variants[1], "weight": 1000}]
    after = Client.from_config(config_document(sticky_version=1, variants=moved), options=options)
    again = {unit: after.assign(EXPERIMENT, unit) for unit in first}
    assert {unit: a.variant for unit, a in again.items()} == first
    assert {a.reason for a in again.values()} == {AssignmentReason.STICKY}
    assert all(a.in_experiment for a in again.values())
    reshuffled = Client.from_config(
        config_document(sticky_version=2, variants=moved), options=options
    )
    shares = [reshuffled.assign(EXPERIMENT, unit).variant for unit in first]
    assert shares.count(moved[1]["key"]) > 190


class _Broken:
    def get(self, experiment: str, version: int, unit_id: str) -> str | None:
        raise OSError("store down")

    def put(self, experiment: str, version: int, unit_id: str, variant: str) -> None:
        raise OSError("store down")


def test_a_failing_store_is_logged_once_and_the_unit_hashed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = Client.from_config(
        config_document(sticky_version=1), options=ClientOptions(sticky_store=_Broken())
    )
    plain = Client.from_config(config_document())
    with caplog.at_level(logging.ERROR, logger="vekst_sdk"):
        for number in range(20):
            got = client.assign(EXPERIMENT, f"u{number}")
            assert got.variant == plain.assign(EXPERIMENT, f"u{number}").variant
            assert got.reason is AssignmentReason.SPLIT
    assert sum("sticky store failed to read" in r.message for r in caplog.records) == 1


@pytest.mark.redis
def test_the_redis_store_shares_units_and_expires_them(redis_url: str) -> None:
    connection = redis.Redis.from_url(redis_url, decode_responses=True)
    for key in connection.scan_iter("test-sticky:*"):
        connection.delete(key)
    store = RedisStickyStore(connection, prefix="test-sticky:", ttl_seconds=60)
    assert store.get(EXPERIMENT, 1, "visitor-1") is None
    store.put(EXPERIMENT, 1, "a:b:c", "one-page")
    assert connection.get(f"test-sticky:{EXPERIMENT}:1:a:b:c") == "one-page"
    assert 0 < connection.ttl(f"test-sticky:{EXPERIMENT}:1:a:b:c") <= 60
    from_url = RedisStickyStore.from_url(redis_url, prefix="test-sticky:", ttl_seconds=None)
    assert from_url.get(EXPERIMENT, 1, "a:b:c") == "one-page"
    options = ClientOptions(sticky_store=from_url)
    client = Client.from_config(config_document(sticky_version=1), options=options)
    kept = client.assign(EXPERIMENT, "a:b:c")
    assert (kept.variant, kept.reason) == ("one-page", AssignmentReason.STICKY)
    client.assign(EXPERIMENT, "visitor-9")
    assert connection.ttl(f"test-sticky:{EXPERIMENT}:1:visitor-9") == -1  # no TTL asked
    for key in connection.scan_iter("test-sticky:*"):
        connection.delete(key)


def test_an_unreachable_redis_counts_as_a_miss(caplog: pytest.LogCaptureFixture) -> None:
    store = RedisStickyStore.from_url("redis://127.0.0.1:9/0", timeout_seconds=0.05)
    with caplog.at_level(logging.ERROR, logger="vekst_sdk"):
        assert store.get(EXPERIMENT, 1, "visitor-1") is None
        store.put(EXPERIMENT, 1, "visitor-1", "one-page")
    assert len(caplog.records) == 2
    with pytest.raises(ValueError, match="ttl_seconds"):
        RedisStickyStore.from_url("redis://127.0.0.1:9/0", ttl_seconds=0)


def test_holdout_units_see_the_control_and_log_the_holdout_exposure() -> None:
    config = config_document()
    config["holdouts"] = [HOLDOUT]
    server = FakeServer(config)
    client = online(server, flush_interval=60)
    held, measured, neither = _unit_in("holdout"), _unit_in("measurement"), _unit_in("")
    for _ in range(2):
        got = client.assign(EXPERIMENT, held)
        assert (got.variant, got.reason, got.in_experiment) == (
            "multi-step",
            AssignmentReason.HOLDOUT,
            False,
        )
        assert client.assign(EXPERIMENT, measured).reason is AssignmentReason.SPLIT
        assert client.assign(EXPERIMENT, neither).reason is AssignmentReason.SPLIT
    assert client.assign(EXPERIMENT, "qa-anna").reason is AssignmentReason.OVERRIDE
    client.close()
    sent = [(e["experiment"], e["variant"], e["unit_id"]) for e in server.events()]
    assert ("holdout-q1", "holdout", held) in sent
    assert ("holdout-q1", "measurement", measured) in sent
    assert [s for s in sent if s[2] == held] == [("holdout-q1", "holdout", held)]
    assert len(sent) == 4  # measured and neither each exposed once, plus two holdout exposures


@pytest.mark.parametrize(
    ("holdouts", "path"),
    [
        ("all", "holdouts"),
        ([{**HOLDOUT, "share": 0.6}], "holdouts[0].share"),
        ([{**HOLDOUT, "share": float("nan")}], "holdouts[0].share"),
        ([{**HOLDOUT, "share": True}], "holdouts[0].share"),
        ([{**HOLDOUT, "salt": "a:b"}], "holdouts[0].salt"),
        ([{**HOLDOUT, "key": "\ud800"}], "holdouts[0].key"),
        ([{**HOLDOUT, "experiments": "all_new"}], "holdouts[0].experiments"),
        ([{**HOLDOUT, "experiments": [""]}], "holdouts[0].experiments[0]"),
        ([HOLDOUT, HOLDOUT], "holdouts[1].key"),
        ([[]], "holdouts[0]"),
    ],
)
def test_bad_holdouts_are_refused_and_left_out(holdouts: Any, path: str) -> None:
    config = {**config_document(), "holdouts": holdouts}
    with pytest.raises(ConfigError) as refused:
        validate_config(config)
    assert refused.value.path == path
    evaluator = Evaluator(config, strict=False)
    assert evaluator.assign(EXPERIMENT, _unit_in("holdout")).reason is AssignmentReason.SPLIT or (
        path == "holdouts[1].key"
    )


@pytest.mark.parametrize("version", [0, -1, 2**31, 1.0, True, "1", 10**40])
def test_bad_sticky_versions_are_refused(version: Any) -> None:
    with pytest.raises(ConfigError) as refused:
        validate_config(config_document(sticky_version=version))
    assert refused.value.path == "experiments[0].sticky_version"
