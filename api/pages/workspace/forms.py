"""Reading the workspace's forms and turning the domain's refusals into field errors.

An experiment's form has more fields than the login's (`access.read_form`: 4096 bytes, 10
fields): variants, payloads, targeting rows, metrics. So these forms get larger limits that are
still bounded, and a form past them is not a 5xx but an error on its largest field, shown on the
page with everything else the person typed. A form past the server's own body limit (5 MiB) is
not read at all but for its first 64 KiB (`api.limits`): its error is on the field still running
at their end, which is the one too large (`form` when the cut falls in a field's name).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar
from urllib.parse import parse_qsl, unquote_plus

from fastapi import Depends, Request
from pydantic import BaseModel, ValidationError
from sqlmodel import Session

from api.limits import TOO_LARGE_HEAD_SCOPE_KEY, TOO_LARGE_SCOPE_KEY
from api.pages.access import LoggedIn, Role, UserDep, sessions_of
from api.problems import error_field, rule_of
from experiments.errors import ConflictError, InvalidInputError
from experiments.inputs import printable

MAX_FORM_BYTES = 64 * 1024
MAX_FORM_FIELDS = 200
FORM_FIELD = "form"  # where an error about the whole form is shown (above the form)


class Fields:
    """A posted form: every value of every field, in order (repeated rows share a name)."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._values: dict[str, list[str]] = {}
        for name, value in pairs:
            self._values.setdefault(name, []).append(value)

    def get(self, name: str, default: str = "") -> str:
        values = self._values.get(name)
        return values[0] if values else default

    def all(self, name: str) -> list[str]:
        return list(self._values.get(name, []))

    def has(self, name: str) -> bool:
        return name in self._values


@dataclass
class FieldErrors:
    """The rules a posted form broke, by field path (`variants[1].weight`); `form` for the
    whole form. The first rule per field is kept: it is the one the person fixes first."""

    rules: dict[str, str] = field(default_factory=dict)

    def add(self, path: str, rule: str) -> None:
        self.rules.setdefault(printable(path), printable(rule))

    def __bool__(self) -> bool:
        return bool(self.rules)

    def of(self, path: str) -> str | None:
        return self.rules.get(path)

    def under(self, prefix: str) -> list[tuple[str, str]]:
        """Errors at `prefix` or inside it (`targeting` takes `targeting.all[1].value`)."""
        return [
            (path, rule)
            for path, rule in self.rules.items()
            if path == prefix or path.startswith((f"{prefix}.", f"{prefix}["))
        ]

    def add_validation(self, error: ValidationError) -> None:
        """Each of pydantic's errors at the API's path for it (`api.problems`' own rules)."""
        for item in error.errors():
            self.add(error_field(dict(item)), rule_of(dict(item)))


class FormTooLargeError(Exception):
    """A form past `MAX_FORM_BYTES` or `MAX_FORM_FIELDS`; `field` names its largest field."""

    def __init__(self, field_name: str, rule: str) -> None:
        super().__init__(rule)
        self.field = field_name
        self.rule = rule


def _largest_field(body: bytes) -> str:
    parts = body.split(b"&")
    largest = max(parts, key=len) if parts else b""
    name = largest.split(b"=", 1)[0].decode("utf-8", "replace")
    return printable(unquote_plus(name)) or FORM_FIELD


def _field_running_at_end(head: bytes) -> str:
    """The name of the field whose value the cut at the end of `head` falls in (`form` when
    the cut falls in a name, so none can be told)."""
    last = head.rpartition(b"&")[2]
    name, equals, _ = last.partition(b"=")
    if not equals:
        return FORM_FIELD
    return printable(unquote_plus(name.decode("utf-8", "replace"))) or FORM_FIELD


def parse_form(body: bytes) -> Fields:
    """`body` as a urlencoded form, or `FormTooLargeError` / `InvalidInputError` naming why not."""
    if len(body) > MAX_FORM_BYTES:
        raise FormTooLargeError(
            _largest_field(body),
            f"is too long: a form takes at most {MAX_FORM_BYTES // 1024} KiB in all",
        )
    # Bytes that are not UTF-8 become lone surrogates, which the domain's text rule refuses
    # at their own field, as the API refuses them in JSON.
    text = body.decode("utf-8", "surrogateescape")
    try:
        pairs = parse_qsl(
            text, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS, errors="surrogateescape"
        )
    except ValueError:  # more fields than max_num_fields
        raise FormTooLargeError(
            FORM_FIELD, f"has too many fields: at most {MAX_FORM_FIELDS}"
        ) from None
    return Fields(pairs)


async def read_fields(request: Request, user: LoggedIn) -> tuple[Fields, FieldErrors]:
    """The posted form and the errors already found in it (too large: the form comes back
    empty but for the error). A missing or stale CSRF token is refused outright (422 `csrf`),
    like every page form."""
    errors = FieldErrors()
    refused_at = request.scope.get(TOO_LARGE_SCOPE_KEY)
    if refused_at is not None:
        # Left unread but for its head by the server's body limit (`api.limits`): nothing is
        # done with an unchecked form, the page only says why, at the field running past it.
        head = request.scope.get(TOO_LARGE_HEAD_SCOPE_KEY, b"")
        rule = f"is too large: the server takes at most {refused_at:,} bytes in all"
        errors.add(_field_running_at_end(head), rule)
        return Fields([]), errors
    body = await request.body()
    try:
        fields = parse_form(body)
    except FormTooLargeError as large:
        # A form too large is answered with its error, so it still needs its token.
        csrf = _csrf_in(body)
        _check_csrf(request, user, csrf)
        errors.add(large.field, large.rule)
        return Fields([]), errors
    _check_csrf(request, user, fields.get("csrf"))
    return fields, errors


def _csrf_in(body: bytes) -> str | None:
    for part in body.split(b"&"):
        name, _, value = part.partition(b"=")
        if name == b"csrf":
            return unquote_plus(value.decode("ascii", "replace"))
    return None


def _check_csrf(request: Request, user: LoggedIn, token: str | None) -> None:
    if not sessions_of(request).csrf_ok(user.page_session, token):
        raise InvalidInputError("csrf", "the form is stale or not from this site; reload the page")


@dataclass(frozen=True, slots=True)
class Posted:
    """A form posted by someone with the role its route asks for: its fields, and the errors
    found reading it."""

    fields: Fields
    errors: FieldErrors


def posted_by(role: Role) -> Any:
    """A dependency: 403 below `role`, then the form read (`read_fields`, CSRF checked). Reading
    is the only awaited step, so the route itself is a plain function FastAPI runs in a worker
    thread, and its database work never holds up the event loop."""

    async def posted(request: Request, user: UserDep) -> Posted:
        user.require(role)
        fields, errors = await read_fields(request, user)
        return Posted(fields, errors)

    return Depends(posted)


EditorForm = Annotated[Posted, posted_by("editor")]
AdminForm = Annotated[Posted, posted_by("admin")]


Model = TypeVar("Model", bound=BaseModel)


def validated(model: type[Model], data: object, errors: FieldErrors) -> Model | None:
    """`data` as `model` (the API's request shape), or None with its errors added."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        errors.add_validation(error)
        return None


Result = TypeVar("Result")


def attempt(
    session: Session,
    errors: FieldErrors,
    action: Callable[[], Result],
    conflict_field: str = FORM_FIELD,
) -> Result | None:
    """`action()`'s result, or None with the domain's refusal added to `errors`: an
    InvalidInputError at its own field, a ConflictError at `conflict_field`. Anything written
    before the refusal is rolled back, so the page that shows the error commits nothing."""
    try:
        return action()
    except InvalidInputError as refused:
        session.rollback()
        errors.add(refused.field, refused.rule)
    except ConflictError as refused:
        session.rollback()
        errors.add(conflict_field, refused.detail)
    return None
