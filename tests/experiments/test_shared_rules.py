"""The server's copies of the SDK's rules agree with the SDK's (the SDK's copy is the spec, and
it imports nothing from the server); each rule has one home on the server."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from experiments.changes import change_channel
from experiments.errors import InvalidInputError
from experiments.events.sinks import DEFAULT_DEDUPE_SECONDS
from experiments.events.streams import StreamKeys
from experiments.inputs import MAX_UNIT_ID_LENGTH, SLUG, SLUG_PATTERN, require_timezone
from experiments.layers import LAYER_BUCKETS
from experiments.models.experiment import SERVED_STATUSES
from experiments.settings import load_settings
from vekst_sdk._config import STATUSES as SDK_STATUSES
from vekst_sdk._inputs import MAX_UNIT_ID_LENGTH as SDK_MAX_UNIT_ID_LENGTH
from vekst_sdk.spec import LAYER_BUCKETS as SDK_LAYER_BUCKETS


def test_the_served_statuses_are_the_sdks() -> None:
    assert set(SDK_STATUSES) == SERVED_STATUSES


def test_the_layer_bucket_count_is_the_sdks() -> None:
    assert LAYER_BUCKETS == SDK_LAYER_BUCKETS


def test_the_unit_id_length_is_the_sdks() -> None:
    assert MAX_UNIT_ID_LENGTH == SDK_MAX_UNIT_ID_LENGTH


def test_the_slug_pattern_and_the_compiled_slug_agree() -> None:
    assert SLUG.pattern == SLUG_PATTERN
    for text in ["a", "checkout-onepage", "a_b-9", "x" * 64]:
        assert SLUG.fullmatch(text) and re.fullmatch(SLUG_PATTERN, text)
    for text in ["", "A", "a b", "x" * 65, "a\n", "æ"]:
        assert not SLUG.fullmatch(text) and not re.fullmatch(SLUG_PATTERN, text)


def test_the_event_stream_defaults_are_the_settings_defaults() -> None:
    settings = load_settings()
    assert StreamKeys().prefix == settings.event_stream_prefix
    assert DEFAULT_DEDUPE_SECONDS == round(settings.event_dedupe_hours * 3600)


def test_the_change_channel_shares_the_prefix_and_its_hash_slot() -> None:
    assert change_channel("{shop}") == "{shop}:changes"


def test_a_moment_asked_about_must_name_its_timezone() -> None:
    require_timezone("as_of", None)
    require_timezone("as_of", datetime(2026, 3, 1, 12, tzinfo=UTC))
    with pytest.raises(InvalidInputError) as refused:
        require_timezone("as_of", datetime(2026, 3, 1, 12))
    assert refused.value.field == "as_of"
    assert "timezone" in refused.value.rule
