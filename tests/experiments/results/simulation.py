"""Simulated raw events with known effects, a loader, and a reference computation from raw rows.

The reference implements docs/results.md's attribution in plain Python/numpy, independently of
the SQL, so tests can compare the database's sufficient statistics with it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import Table, text
from sqlalchemy.engine import Connection, Engine

from experiments.models.api_key import EventSource
from experiments.models.event import Conversion, Exposure
from experiments.models.metric import MetricDefinition

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
EXPOSURES: Table = Exposure.__table__  # type: ignore[attr-defined]
CONVERSIONS: Table = Conversion.__table__  # type: ignore[attr-defined]


@dataclass
class RawEvents:
    exposures: list[dict[str, Any]] = field(default_factory=list)
    conversions: list[dict[str, Any]] = field(default_factory=list)

    def expose(
        self,
        unit: str,
        variant: str,
        at: datetime,
        experiment: str = "exp",
        attributes: dict[str, Any] | None = None,
    ) -> None:
        self.exposures.append(
            {
                "event_id": f"x{len(self.exposures)}",
                "experiment": experiment,
                "variant": variant,
                "unit_id": unit,
                "timestamp": at,
                "received_at": at,
                "source": "sdk",
                "attributes": attributes,
            }
        )

    def convert(
        self,
        unit: str,
        name: str,
        at: datetime,
        value: float | None = None,
        source: EventSource = "sdk",
    ) -> None:
        self.conversions.append(
            {
                "event_id": f"c{len(self.conversions)}",
                "name": name,
                "unit_id": unit,
                "value": value,
                "properties": None,
                "timestamp": at,
                "received_at": at,
                "source": source,
            }
        )

    def load(self, engine: Engine) -> None:
        """Insert the events, then ANALYZE the two tables as autovacuum soon would after a
        bulk load: without statistics PostgreSQL plans the percentile caps' query as a nested
        loop over every unit (0.8 s a look instead of 0.02 s at 4,000 units).

        The rows are stored exactly as `insert(Exposure)` stores them (each value goes through
        its column type's bind processor for the dialect), but in bulk: COPY on PostgreSQL,
        where psycopg sends an executemany as one INSERT per row (the server's work for 80,000
        exposures fell from about 12 s to 5 s on a loaded machine), and the driver's own
        executemany on SQLite, without SQLAlchemy's per-row parameter handling."""
        with engine.begin() as connection:
            for table, rows in (
                (EXPOSURES, self.exposures),
                (CONVERSIONS, self.conversions),
            ):
                if rows:
                    _bulk_insert(connection, table, rows)
            if connection.dialect.name == "postgresql":
                connection.execute(text("ANALYZE exposures, conversions"))


def _bulk_insert(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """`rows` (all with the first row's keys) into `table`, each value as its column stores it."""
    dialect = connection.dialect
    names = list(rows[0])
    processors = [
        table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names
    ]
    # Column by column: a fifth less CPU than a generator over each row's values.
    by_column = [
        [row[name] for row in rows] if process is None else [process(row[name]) for row in rows]
        for name, process in zip(names, processors, strict=True)
    ]
    stored = list(zip(*by_column, strict=True))
    columns = ", ".join(names)
    if dialect.name == "postgresql":
        with connection.connection.driver_connection.cursor() as cursor:  # type: ignore[union-attr]
            with cursor.copy(f"COPY {table.name} ({columns}) FROM STDIN") as copy:
                for values in stored:
                    copy.write_row(values)
        return
    marks = ", ".join("?" for _ in names)
    connection.exec_driver_sql(f"INSERT INTO {table.name} ({columns}) VALUES ({marks})", stored)


def simulate_shop(
    units: int,
    uplift: float,
    seed: int,
    experiment: str = "exp",
    start: datetime = START,
    variants: tuple[str, str] = ("control", "treatment"),
) -> RawEvents:
    """Checkout traffic: 2.5 % baseline purchase, ~70 % cart abandonment, lognormal AOV.

    Includes the attribution edge cases: events before exposure (also in the pre-period), a
    few units in both variants, events long after exposure, unexposed units and refunds.
    Conversions are sent in turn with sdk, server and admin keys (`source`).
    """
    rng = np.random.default_rng(seed)
    raw = RawEvents()
    for index in range(units):
        unit = f"u{index}"
        variant = variants[int(rng.integers(2))]
        first = start + timedelta(milliseconds=int(rng.integers(0, 5 * 86_400_000)))
        raw.expose(unit, variant, first, experiment)
        if rng.random() < 0.3:  # repeat exposures of the same variant
            raw.expose(
                unit, variant, first + timedelta(hours=float(rng.uniform(0, 48))), experiment
            )
        if rng.random() < 0.01:  # the unit also saw the other variant
            other = variants[1 - variants.index(variant)]
            raw.expose(unit, other, first + timedelta(minutes=5), experiment)
        rate = 0.025 * (1 + uplift if variant == variants[1] else 1.0)
        if rng.random() < 0.1:  # a visit in the 14 days before exposure (CUPED covariate)
            before = first - timedelta(days=float(rng.uniform(0, 20)))
            before = max(before, start - timedelta(days=30))
            raw.convert(unit, "purchase", before, float(rng.lognormal(6.2, 0.8)))
        if rng.random() < rate / 0.3:
            at = first + timedelta(hours=float(rng.exponential(20)))
            raw.convert(unit, "add_to_cart", at)
            raw.convert(unit, "checkout_started", at + timedelta(minutes=2))
            if rng.random() < 0.3:
                for order in range(1 + int(rng.random() < 0.15)):
                    raw.convert(
                        unit,
                        "purchase",
                        at + timedelta(minutes=10 + order),
                        float(rng.lognormal(6.2, 0.8)),
                    )
                if rng.random() < 0.05:
                    raw.convert(unit, "refund", at + timedelta(days=3))
    for index in range(units // 20):  # never exposed
        raw.convert(f"ghost{index}", "purchase", start + timedelta(days=1), 500.0)
    for index, row in enumerate(raw.conversions):  # no draw: the other figures stay the same
        row["source"] = _SOURCES[index % len(_SOURCES)]
    return raw


_SOURCES: tuple[EventSource, ...] = ("sdk", "server", "admin")


def reference_unit_numerators(
    raw: RawEvents, metric: MetricDefinition, end: datetime, experiment: str = "exp"
) -> list[float]:
    """Each single-variant unit's numerator of `metric` (uncapped), from raw rows."""
    rows = _per_unit(raw, metric.model_copy(update={"cap": None}), end, experiment, cuped=False)
    return [row[0] for per_variant in rows.values() for row in per_variant]


def reference_sums(
    raw: RawEvents,
    metric: MetricDefinition,
    end: datetime,
    experiment: str = "exp",
    cuped: bool = False,
) -> dict[str, dict[str, float]]:
    """Per variant, from raw rows, each sum by name (`VariantSums.as_fields`): x is the per-unit
    numerator, y the denominator, z the covariate, w a ratio's pre-period denominator (its sums
    appear when not all 0, as `as_fields` stores them)."""
    per_variant = _per_unit(raw, metric, end, experiment, cuped)
    result: dict[str, dict[str, float]] = {}
    for variant, rows in per_variant.items():
        x, y, z, w = (np.array(column) for column in zip(*rows, strict=True))
        result[variant] = {
            "n": float(len(rows)),
            "numerator_sum": float(x.sum()),
            "numerator_sum_squares": float((x * x).sum()),
            "denominator_sum": float(y.sum()),
            "denominator_sum_squares": float((y * y).sum()),
            "cross_sum": float((x * y).sum()),
            "covariate_sum": float(z.sum()),
            "covariate_sum_squares": float((z * z).sum()),
            "covariate_cross_sum": float((x * z).sum()),
            "covariate_denominator_cross_sum": float((y * z).sum()) if cuped else 0.0,
            "nonzero_units": float(np.count_nonzero(y if metric.kind == "ratio" else x)),
        }
        second = {
            "pre_denominator_sum": float(w.sum()),
            "pre_denominator_sum_squares": float((w * w).sum()),
            "pre_denominator_cross_sum": float((x * w).sum()),
            "pre_denominator_denominator_cross_sum": float((y * w).sum()),
            "covariate_pre_denominator_cross_sum": float((z * w).sum()),
        }
        if any(second.values()):
            result[variant] |= second
    return result


def _per_unit(
    raw: RawEvents, metric: MetricDefinition, end: datetime, experiment: str, cuped: bool
) -> dict[str, list[tuple[float, float, float, float]]]:
    """(numerator, denominator, covariate, a ratio's pre-period denominator) of each
    single-variant unit, per variant."""
    seen: dict[str, set[str]] = defaultdict(set)
    first: dict[str, datetime] = {}
    variant_of: dict[str, str] = {}
    for row in sorted(raw.exposures, key=lambda r: r["timestamp"]):
        if row["experiment"] != experiment or row["timestamp"] > end:
            continue
        seen[row["unit_id"]].add(row["variant"])
        if row["unit_id"] not in first:
            first[row["unit_id"]] = row["timestamp"]
            variant_of[row["unit_id"]] = row["variant"]
    events: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in raw.conversions:
        events[row["unit_id"]].append(row)

    def side(unit: str, event: str, aggregation: str, period: str) -> float:
        start = first[unit]
        total = 0.0
        for row in events[unit]:
            at = row["timestamp"]
            if row["name"] != event or at > end:
                continue
            if metric.sources is not None and row["source"] not in metric.sources:
                continue
            if period == "post":
                if at < start:
                    continue
                if metric.window_hours is not None and at > start + timedelta(
                    hours=metric.window_hours
                ):
                    continue
            elif not (start - timedelta(days=14) <= at < start):
                continue
            total += (row["value"] or 0.0) if aggregation == "sum" else 1.0
        return float(total > 0) if aggregation == "any" else total

    def values(unit: str, period: str) -> tuple[float, float]:
        numerator = side(unit, metric.numerator_event, metric.numerator_aggregation, period)
        if metric.numerator_unless and side(unit, metric.numerator_unless, "any", period):
            numerator = 0.0
        if metric.cap is not None:
            numerator = min(numerator, metric.cap)
        denominator = 1.0
        if metric.denominator_event is not None:
            denominator = side(
                unit, metric.denominator_event, metric.denominator_aggregation, period
            )
        return numerator, denominator

    per_variant: dict[str, list[tuple[float, float, float, float]]] = defaultdict(list)
    for unit, variants in seen.items():
        if len(variants) > 1:
            continue
        numerator, denominator = values(unit, "post")
        covariate, pre_denominator = values(unit, "pre") if cuped else (0.0, 0.0)
        if metric.kind != "ratio":
            pre_denominator = 0.0
        per_variant[variant_of[unit]].append((numerator, denominator, covariate, pre_denominator))
    return per_variant


def with_attributes(raw: RawEvents, seed: int) -> dict[str, dict[str, Any]]:
    """Give the exposures attributes (a repeat exposure says another device: it must not move
    the unit), and return each unit's first exposure's attributes."""
    rng = np.random.default_rng(seed)
    first: dict[str, tuple[datetime, dict[str, Any]]] = {}
    for row in raw.exposures:
        draw = rng.random()
        attributes: dict[str, Any] | None = {
            "device": str(rng.choice(["mobile", "desktop", "tablet"])),
            "market": str(rng.choice(["NO", "SE", "DK"])),
            "returning": bool(rng.random() < 0.4),
        }
        if draw < 0.1:
            attributes = None  # (none) in every dimension
        elif draw < 0.2:
            attributes = {"device": "desktop"}  # market and returning: (none)
        row["attributes"] = attributes
        unit, at = row["unit_id"], row["timestamp"]
        if unit not in first or at < first[unit][0]:
            first[unit] = (at, attributes or {})
    return {unit: attributes for unit, (_, attributes) in first.items()}
