"""The experiment form: what the page shows (`ExperimentForm`, every field as typed) and the API
body it posts to the domain (`create_body`, `update_body`).

The form keeps what was typed, so a refused form comes back as it was sent with the errors
beside their fields. The body is the API's own JSON shape (`ExperimentCreate`,
`ExperimentUpdate`), so its errors carry the API's paths: `variants[1].weight must be > 0`.
Targeting is built from rows (attribute, operator, value) joined by `all` or `any`; a condition
the rows cannot express (a `not`, nesting) is edited as JSON instead.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from api.pages.workspace.forms import FieldErrors, Fields
from experiments.models.experiment import Experiment
from experiments.templates import TEMPLATES, Template

VARIANT_ROWS = 2  # at least this many rows; "Add a variant" re-renders with one more
MAX_VARIANT_ROWS = 10
CONDITION_ROWS = 3
MAX_CONDITION_ROWS = 10
OPERATORS = ("eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "exists")
DESIGN_FIELDS = (
    "mde_relative",
    "alpha",
    "power",
    "baseline_rate",
    "baseline_cv",
    "planned_units_per_variant",
    "population",
    "attribution_hours",
    "test_share",
)
BLANK = "blank"


@dataclass
class VariantRow:
    key: str = ""
    name: str = ""
    weight: str = "1"
    payload: str = ""

    def empty(self) -> bool:
        return not (self.key or self.name or self.payload.strip())


@dataclass
class ConditionRow:
    attribute: str = ""
    op: str = "eq"
    value: str = ""


@dataclass
class ExperimentForm:
    """Every field of the experiment form as text, as shown and as posted."""

    template: str = BLANK
    key: str = ""
    name: str = ""
    hypothesis: str = ""
    unit_type: str = ""
    variants: list[VariantRow] = field(default_factory=list)
    traffic: str = "1"
    join: str = "all"
    conditions: list[ConditionRow] = field(default_factory=list)
    targeting_json: str = ""
    layer: str = ""
    primary: str = ""
    secondary: list[str] = field(default_factory=list)
    guardrails: list[str] = field(default_factory=list)
    margins: str = ""
    caps: str = ""
    dimensions: str = ""
    design: dict[str, str] = field(default_factory=dict)
    visitors_per_day: str = ""

    def padded(self) -> ExperimentForm:
        """The form with its empty rows: at least `VARIANT_ROWS` variants and
        `CONDITION_ROWS` conditions, so a row can be filled without JavaScript."""
        while len(self.variants) < VARIANT_ROWS:
            self.variants.append(VariantRow(key="control" if not self.variants else "", weight="1"))
        while len(self.conditions) < CONDITION_ROWS:
            self.conditions.append(ConditionRow())
        return self


def from_template(name: str) -> ExperimentForm:
    """A new experiment's form, filled from template `name` (`blank`: nothing but defaults)."""
    form = ExperimentForm(template=name)
    form.variants = [VariantRow("control", "Control"), VariantRow("treatment", "Treatment")]
    form.design = {"mde_relative": "0.1", "alpha": "0.05", "power": "0.8"}
    if name in Template.__members__.values():
        defaults = TEMPLATES[Template(name)]
        form.unit_type = defaults.unit_type
        form.primary = defaults.primary
        form.secondary = list(defaults.secondary)
        form.guardrails = list(defaults.guardrails)
        form.caps = _pairs_text(defaults.cap_percentiles)
        form.dimensions = ", ".join(defaults.dimensions)
    if name == Template.NEWSLETTER:
        form.design |= {"attribution_hours": "72", "test_share": "0.2"}
    return form.padded()


def from_experiment(experiment: Experiment) -> ExperimentForm:
    """The form of a stored experiment, for its edit page."""
    metrics = experiment.metrics
    form = ExperimentForm(
        template=BLANK,
        key=experiment.key,
        name=experiment.name,
        hypothesis=experiment.hypothesis,
        unit_type=experiment.unit_type,
        variants=[
            VariantRow(
                str(v["key"]),
                str(v["name"]),
                f"{v['weight']:g}",
                "" if v.get("payload") is None else json.dumps(v["payload"], ensure_ascii=False),
            )
            for v in experiment.variants
        ],
        traffic=f"{experiment.traffic:g}",
        layer=experiment.layer or "",
        primary=metrics.primary,
        secondary=list(metrics.secondary),
        guardrails=list(metrics.guardrails),
        margins=_pairs_text(metrics.guardrail_margins),
        caps=_pairs_text(metrics.cap_percentiles),
        dimensions=", ".join(experiment.dimensions),
    )
    stored = experiment.design.model_dump()
    form.design = {name: _number_text(stored[name]) for name in DESIGN_FIELDS}
    _targeting_into(form, experiment.targeting)
    return form.padded()


def from_fields(fields: Fields) -> ExperimentForm:
    """The form as posted (rows left empty are dropped, then padded again for the page)."""
    form = ExperimentForm(
        template=fields.get("template", BLANK),
        key=fields.get("key").strip(),
        name=fields.get("name"),
        hypothesis=fields.get("hypothesis"),
        unit_type=fields.get("unit_type").strip(),
        traffic=fields.get("traffic").strip(),
        join="any" if fields.get("join") == "any" else "all",
        targeting_json=fields.get("targeting_json"),
        layer=fields.get("layer").strip(),
        primary=fields.get("primary"),
        secondary=fields.all("secondary"),
        guardrails=fields.all("guardrails"),
        margins=fields.get("margins"),
        caps=fields.get("caps"),
        dimensions=fields.get("dimensions"),
        visitors_per_day=fields.get("visitors_per_day").strip(),
    )
    rows = zip(
        fields.all("variant_key"),
        fields.all("variant_name"),
        fields.all("variant_weight"),
        fields.all("variant_payload"),
        strict=False,
    )
    form.variants = [VariantRow(k.strip(), n, w.strip(), p) for k, n, w, p in rows]
    # Not cut to MAX_VARIANT_ROWS: more than the API takes is the API's error to show.
    form.variants = [row for row in form.variants if not row.empty()]
    conditions = zip(
        fields.all("condition_attribute"),
        fields.all("condition_op"),
        fields.all("condition_value"),
        strict=False,
    )
    form.conditions = [ConditionRow(a, o, v) for a, o, v in conditions if a.strip()]
    form.design = {name: fields.get(name).strip() for name in DESIGN_FIELDS}
    return form


def create_body(form: ExperimentForm, errors: FieldErrors) -> dict[str, Any]:
    """The `POST /v1/experiments` body the form stands for; what cannot even be read as JSON
    (a payload, the targeting) is added to `errors` at the API's path."""
    body: dict[str, Any] = {
        "key": form.key,
        "name": form.name,
        "hypothesis": form.hypothesis,
        "variants": _variants(form, errors),
        "traffic": form.traffic or "1",
        "design": design_of(form),
        "metrics": metrics_of(form, errors),
        "dimensions": dimensions_of(form),
    }
    if form.template in Template.__members__.values():
        body["template"] = form.template
    if form.unit_type:
        body["unit_type"] = form.unit_type
    if form.layer:
        body["layer"] = form.layer
    targeting = targeting_of(form, errors)
    if targeting is not None:
        body["targeting"] = targeting
    return body


def update_body(
    form: ExperimentForm, errors: FieldErrors, experiment: Experiment
) -> dict[str, Any]:
    """The `PATCH /v1/experiments/{key}` body: a draft is sent whole; a started experiment only
    what may still change (name, hypothesis, traffic, targeting, secondary metrics, dimensions),
    its frozen fields are shown but never sent."""
    whole = create_body(form, errors)
    whole.pop("key")
    whole.pop("template", None)
    whole.setdefault("targeting", None)
    whole.setdefault("layer", None)
    if experiment.status == "draft":
        return whole
    stored = experiment.metrics.model_dump()
    metrics = {**stored, "secondary": whole["metrics"].get("secondary", [])}
    body = {name: whole[name] for name in ("name", "hypothesis", "targeting", "dimensions")}
    if experiment.status == "running":
        body["traffic"] = whole["traffic"]
    return {**body, "metrics": metrics}


def design_of(form: ExperimentForm) -> dict[str, str]:
    return {name: value for name, value in form.design.items() if value}


def metrics_of(form: ExperimentForm, errors: FieldErrors) -> dict[str, Any]:
    metrics: dict[str, Any] = {
        "primary": form.primary,
        "secondary": [key for key in form.secondary if key],
        "guardrails": [key for key in form.guardrails if key],
        "guardrail_margins": _pairs(form.margins, "metrics.guardrail_margins", errors),
        "cap_percentiles": _pairs(form.caps, "metrics.cap_percentiles", errors),
    }
    return metrics


def dimensions_of(form: ExperimentForm) -> list[str]:
    return [name.strip() for name in form.dimensions.split(",") if name.strip()]


def _variants(form: ExperimentForm, errors: FieldErrors) -> list[dict[str, Any]]:
    variants = []
    for index, row in enumerate(form.variants):
        variant: dict[str, Any] = {"key": row.key, "name": row.name, "weight": row.weight}
        if row.payload.strip():
            variant["payload"] = read_json(row.payload, f"variants[{index}].payload", errors)
        variants.append(variant)
    return variants


def read_json(text: str, path: str, errors: FieldErrors) -> Any:
    """`text` as JSON, or None with an error at `path` (too deep a nesting included)."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        errors.add(path, 'is not valid JSON (e.g. {"text": "Buy now"})')
        return None


def targeting_of(form: ExperimentForm, errors: FieldErrors) -> dict[str, Any] | None:
    """The targeting condition: the JSON when given, else the rows joined by `all`/`any`
    (None without rows: everyone)."""
    if form.targeting_json.strip():
        value = read_json(form.targeting_json, "targeting", errors)
        if value is not None and not isinstance(value, dict):
            errors.add("targeting", 'must be a JSON object, such as {"all": [...]}')
            return None
        return value
    if not form.conditions:
        return None
    return {form.join: [_condition(row) for row in form.conditions]}


def _condition(row: ConditionRow) -> dict[str, Any]:
    condition: dict[str, Any] = {"attribute": row.attribute.strip(), "op": row.op}
    text = row.value.strip()
    if row.op == "exists" and not text:
        return condition
    if row.op in ("in", "not_in") and not text.startswith("["):
        condition["value"] = [_scalar(item.strip()) for item in text.split(",")]
    else:
        condition["value"] = _scalar(text)
    return condition


def _scalar(text: str) -> Any:
    """A value typed in a row: JSON when it reads as JSON (`500`, `true`, `"600"`), else the
    text itself (`NO`), so a number is a number and quoted digits stay text."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return text


def _targeting_into(form: ExperimentForm, targeting: dict[str, Any] | None) -> None:
    """Fill the rows from a stored condition they can express, else its JSON."""
    if targeting is None:
        return
    join, items = next(iter(targeting.items())) if len(targeting) == 1 else ("", None)
    leaves = isinstance(items, list) and all(
        isinstance(item, dict) and "attribute" in item for item in items
    )
    if join in ("all", "any") and isinstance(items, list) and leaves:
        form.join = join
        form.conditions = [_row_of(item) for item in items]
    elif "attribute" in targeting:
        form.conditions = [_row_of(targeting)]
    else:
        form.targeting_json = json.dumps(targeting, ensure_ascii=False)


def _row_of(condition: dict[str, Any]) -> ConditionRow:
    value = condition.get("value")
    if isinstance(value, list):
        text = ", ".join(v if isinstance(v, str) else json.dumps(v) for v in value)
    elif isinstance(value, str):
        text = value
    else:
        text = "" if value is None else json.dumps(value)
    return ConditionRow(str(condition["attribute"]), str(condition.get("op", "eq")), text)


def _pairs(text: str, path: str, errors: FieldErrors) -> dict[str, str]:
    """Lines of `metric value` (or `metric=value`) as a mapping; a line without both is an
    error at `path`."""
    pairs: dict[str, str] = {}
    for line in text.replace("=", " ").splitlines():
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 2:
            errors.add(path, "takes one 'metric value' pair per line, such as 'aov 99.9'")
            continue
        pairs[parts[0]] = parts[1]
    return pairs


def _pairs_text(pairs: Any) -> str:
    return "\n".join(f"{key} {value:g}" for key, value in dict(pairs).items())


def _number_text(value: object) -> str:
    if value is None:
        return ""
    return f"{value:g}" if isinstance(value, float) else str(value)
