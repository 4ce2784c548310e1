"""What a variant may change on a page without a deploy: its `changes`, `css` and `redirect`.

These are data, never code. The browser SDK applies every change with DOM APIs (text content,
one allow-listed attribute, classes, one style property, hiding, an image's source), so no
field here is HTML or script, and the rules below refuse what could still carry script: a
`javascript:` or other non-web URL (only `https:`, `http:`, relative ones, and `data:image/` for
images), markup in a text, and `@import`, `expression(`, `javascript:`, `behavior:` or
`-moz-binding` in CSS. They also bound the sizes, so a stolen admin key can neither put script
on a shop's pages nor make its pages heavy. The browser SDK checks the same rules and ignores a
change that breaks them (a config edited past the server), and the shared cases in
`sdk/testvectors.json` (`changes`) hold both to one list.

Each rule failure is a `path_rule` error whose path starts inside the field, so the API's 422
names the exact part: `variants[1].changes[3].value`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import AfterValidator

from experiments.inputs import check_json, path_rule_error

MAX_CHANGES = 50
MAX_SELECTOR_LENGTH = 500
MAX_VALUE_LENGTH = 2000
MAX_CSS_LENGTH = 10_000
MAX_CLASSES = 20
ACTIONS = ("text", "attribute", "class", "style", "hide", "image")

ATTRIBUTE_NAME = re.compile(r"^(href|src|srcset|alt|title|aria-[a-z0-9-]+|data-[a-z0-9_.-]+)$")
URL_ATTRIBUTES = frozenset({"href", "src"})
CLASS_NAME = re.compile(r"^-?[A-Za-z_][A-Za-z0-9_-]{0,99}$")
STYLE_PROPERTY = re.compile(r"^(--[A-Za-z0-9_-]{1,98}|-?[a-z][a-z-]{0,63})$")
# A scheme, as a browser reads it once it has dropped tabs and newlines.
SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
MARKUP = re.compile(r"<[A-Za-z/!?]")
# What CSS must not hold, lowercased and with comments and escapes taken as suspect.
CSS_REFUSED = ("@import", "expression(", "javascript:", "behavior:", "-moz-binding", "<", "\\")
CSS_URL = re.compile(r"url\(\s*['\"]?([^'\")\s]*)", re.IGNORECASE)

URL_RULE = "must be an https:, http: or relative URL"
IMAGE_URL_RULE = "must be an https:, http:, relative or data:image/ URL"


def url_problem(url: str, *, image: bool = False) -> str | None:
    """Why `url` may not be put in a page, or None: it must be `https:`, `http:` or relative
    (an image may also be `data:image/`), without spaces or control characters, which browsers
    drop before reading the scheme (`java\\tscript:` is `javascript:` to them)."""
    if len(url) > MAX_VALUE_LENGTH:
        return f"must have at most {MAX_VALUE_LENGTH} characters"
    if any(ch <= " " or ch == "\x7f" for ch in url):
        return "must not hold spaces or control characters"
    scheme = SCHEME.match(url)
    if scheme is None or scheme.group(1).lower() in ("http", "https"):
        return None
    if image and url.lower().startswith("data:image/"):
        return None
    return IMAGE_URL_RULE if image else URL_RULE


def srcset_problem(srcset: str) -> str | None:
    """Why a `srcset` (comma-separated `url [descriptor]` candidates) is refused, or None."""
    if len(srcset) > MAX_VALUE_LENGTH:
        return f"must have at most {MAX_VALUE_LENGTH} characters"
    for candidate in srcset.split(","):
        parts = candidate.split()
        if not parts or len(parts) > 2:
            return "must be a list of 'url [descriptor]' separated by commas"
        problem = url_problem(parts[0], image=True)
        if problem is not None:
            return f"holds a URL that {problem}"
    return None


def css_problem(css: str, limit: int) -> str | None:
    """Why CSS text is refused, or None: no `@import`, `expression(`, `javascript:`,
    `behavior:`, `-moz-binding`, markup or escapes (which could spell any of them), and every
    `url(...)` an https:, http:, relative or data:image/ URL."""
    if len(css) > limit:
        return f"must have at most {limit} characters"
    lowered = css.lower()
    for refused in CSS_REFUSED:
        if refused in lowered:
            return f"must not contain '{refused}' (CSS that could load or run code)"
    for url in CSS_URL.findall(css):
        if url_problem(url, image=True) is not None:
            return f"url({url[:40]}) {IMAGE_URL_RULE}"
    return None


def _text(value: object, limit: int = MAX_VALUE_LENGTH) -> str | None:
    if not isinstance(value, str):
        return "must be a string"
    if len(value) > limit:
        return f"must have at most {limit} characters"
    return None


def _plain_text(value: object) -> str | None:
    problem = _text(value)
    if problem is None and MARKUP.search(str(value)):
        return "must be plain text, not HTML (the SDK sets text, never markup)"
    return problem


def _attribute_value(change: dict[str, Any]) -> str | None:
    value = change.get("value")
    problem = _text(value)
    if problem is not None:
        return problem
    name = change.get("name")
    if name in URL_ATTRIBUTES:
        return url_problem(str(value))
    if name == "srcset":
        return srcset_problem(str(value))
    return None


def _classes(value: object) -> str | None:
    if not isinstance(value, list) or len(value) > MAX_CLASSES:
        return f"must be a list of at most {MAX_CLASSES} class names"
    for item in value:
        if not isinstance(item, str) or not CLASS_NAME.match(item):
            return "must hold class names (letters, digits, '-' and '_')"
    return None


def _optional(rule: Callable[[object], str | None]) -> Callable[[object], str | None]:
    return lambda value: None if value is None else rule(value)


def _name(value: object) -> str | None:
    if isinstance(value, str) and ATTRIBUTE_NAME.match(value):
        return None
    return "must be href, src, srcset, alt, title, aria-* or data-*"


def _style_property(value: object) -> str | None:
    if isinstance(value, str) and STYLE_PROPERTY.match(value):
        return None
    return "must be one CSS property name (such as 'background-color')"


def _style_value(value: object) -> str | None:
    problem = _text(value, MAX_SELECTOR_LENGTH)
    if problem is None and any(ch in str(value) for ch in ";{}"):
        return "must be one value, without ';', '{' or '}'"
    return problem or css_problem(str(value), MAX_SELECTOR_LENGTH)


def _image_src(value: object) -> str | None:
    return _text(value) or url_problem(str(value), image=True)


def _srcset(value: object) -> str | None:
    return _text(value) or srcset_problem(str(value))


# Each action's fields and their rules (a field rule sees the whole change for `attribute`'s
# value, whose rule depends on the attribute's name).
FieldRule = Callable[[object], str | None]
FIELDS: dict[str, dict[str, FieldRule]] = {
    "text": {"value": _plain_text},
    "attribute": {"name": _name},
    "class": {"add": _optional(_classes), "remove": _optional(_classes)},
    "style": {"property": _style_property, "value": _style_value},
    "hide": {},
    "image": {"src": _image_src, "srcset": _optional(_srcset)},
}


def _selector(value: object) -> str | None:
    problem = _text(value, MAX_SELECTOR_LENGTH)
    if problem is None and not str(value).strip():
        return "must not be empty"
    return problem


def change_problem(change: object) -> tuple[str, str] | None:
    """The first refused part of one change: (path inside it, rule), or None."""
    if not isinstance(change, dict):
        return "", "must be an object with selector and action"
    action = change.get("action")
    if action not in FIELDS:
        return ".action", f"must be one of {', '.join(ACTIONS)}"
    problem = _selector(change.get("selector"))
    if problem is not None:
        return ".selector", problem
    rules = FIELDS[str(action)]
    allowed = {"selector", "action", *rules, *(("value",) if action == "attribute" else ())}
    for field in change:
        if field not in allowed:
            return f".{field}", f"is not a field of '{action}' (fields: {', '.join(rules)})"
    for field, rule in rules.items():
        problem = rule(change.get(field))
        if problem is not None:
            return f".{field}", problem
    if action == "attribute":
        problem = _attribute_value(change)
        return None if problem is None else (".value", problem)
    if action == "class" and not (change.get("add") or change.get("remove")):
        return ".add", "add or remove needs at least one class name"
    return None


def _check_changes(changes: list[Any]) -> list[Any]:
    if len(changes) > MAX_CHANGES:
        raise path_rule_error("", f"must have at most {MAX_CHANGES} changes")
    for index, change in enumerate(changes):
        problem = change_problem(change)
        if problem is not None:
            raise path_rule_error(f"[{index}]{problem[0]}", problem[1])
    return changes


def _check_css(css: str) -> str:
    problem = css_problem(css, MAX_CSS_LENGTH)
    if problem is not None:
        raise path_rule_error("", problem)
    return css


def redirect_problem(redirect: str) -> str | None:
    """Why a redirect target is refused, or None: an absolute https URL, or a path on the same
    site (`/...`, never `//host`, which is another site)."""
    problem = url_problem(redirect)
    if problem is not None:
        return problem
    if redirect.lower().startswith("https://") and len(redirect) > len("https://"):
        return None
    if redirect.startswith("/") and not redirect.startswith(("//", "/\\")):
        return None
    return "must be an absolute https URL or a path on the same site starting with '/'"


def _check_redirect(redirect: str) -> str:
    problem = redirect_problem(redirect)
    if problem is not None:
        raise path_rule_error("", problem)
    return redirect


Changes = Annotated[list[Any], AfterValidator(check_json), AfterValidator(_check_changes)]
"""A variant's DOM changes, applied in order by the browser SDK (rules above)."""

Css = Annotated[str, AfterValidator(check_json), AfterValidator(_check_css)]
"""A variant's style sheet, added to the page while the variant is shown."""

Redirect = Annotated[str, AfterValidator(check_json), AfterValidator(_check_redirect)]
"""Where a variant sends its visitors (split-URL tests); query string and hash are kept."""
