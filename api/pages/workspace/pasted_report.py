"""An e-mail tool's report, pasted whole, read into the counts form's cells.

E-mail tools show an A/B test's results as a table that copies as tab-separated lines (from the
page) or comma- or semicolon-separated ones (an exported CSV): a header row naming the columns,
then a row per variant. `read_report` finds the columns it knows by their usual names
(`COLUMNS`; other columns, such as rates, are left alone), matches each row to a variant by its
key, its name or its letter ("B", "Version B": the variant in that position), and returns the
cells as the form names them (`sent_1`), for the person to check before saving. A row it cannot
read is an error at `report.line_N` (N as the text box counts lines, from 1), never a guess.
"""

from __future__ import annotations

import csv
import re
import string
from collections.abc import Sequence
from dataclasses import dataclass, field

from experiments.inputs import printable, text_problem

MAX_LINES = 50
MAX_CELL = 100

# The counts form's cells and the column names that fill each, most preferred first: a
# report with both "Opens" and "Unique opens" fills `opened` from the unique ones (people,
# not events, as the API's `opened` is).
COLUMNS: dict[str, tuple[str, ...]] = {
    "sent": ("sent", "recipients", "emails sent", "total recipients", "total sent"),
    "opened": ("opened", "unique opens", "openers", "unique opened", "opens"),
    "clicked": ("clicked", "unique clicks", "clickers", "unique clicked", "clicks"),
    "unsubscribed": ("unsubscribed", "unsubscribes", "unsubs", "opt outs"),
    "revenue": ("revenue", "total revenue", "order revenue"),
    "revenue_sum_squares": ("revenue sum squares", "revenue sum of squares"),
}
VARIANT_COLUMNS = ("variant", "version", "variation", "key", "name", "split", "test", "subject")
TOTAL_ROWS = frozenset({"total", "totals", "all", "sum", "overall"})
_MONEY = r"(?:[$€£¥]|kr|nok|sek|dkk|eur|usd|gbp)"
_CURRENCY = re.compile(rf"^{_MONEY}\s*|\s*(?:{_MONEY}|,-)$", re.IGNORECASE)
# Digits are ASCII only ([0-9], not \d, which takes every script's digits and "²").
_GROUPED = re.compile(r"[0-9]{1,3}(?:([,.' ])[0-9]{3})(?:\1[0-9]{3})*")
_DECIMAL = re.compile(r"([0-9]+)([.,][0-9]{1,2})?|([0-9]{1,3}(?:[,.' ][0-9]{3})+)([.,][0-9]{1,2})")


@dataclass
class ReadReport:
    """The cells a report filled (`sent_1` → "2000") and the rules it broke, by path."""

    cells: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def refuse(self, path: str, rule: str) -> None:
        self.errors.setdefault(path, rule)


@dataclass(frozen=True, slots=True)
class Variant:
    key: str
    name: str


def read_report(text: str, variants: Sequence[Variant]) -> ReadReport:
    """`text` (the paste box) read into cells for `variants`, in their order."""
    read = ReadReport()
    problem = text_problem(text)
    if problem is not None:
        read.refuse("report", problem)
        return read
    lines = [(number, line) for number, line in enumerate(text.splitlines(), 1) if line.strip()]
    if len(lines) < 2:
        read.refuse("report", "needs a header row naming the columns and a row per variant")
        return read
    if len(lines) > MAX_LINES:
        read.refuse("report", f"has {len(lines)} rows; at most {MAX_LINES} are read")
        return read
    rows = _split(lines)
    header = [_words(cell) for cell in rows[0][1]]
    columns = _columns(header)
    if "sent" not in columns:
        found = ", ".join(repr(printable(cell)) for cell in rows[0][1])
        read.refuse("report", f"has no column of recipients ('Sent' or 'Recipients'): {found}")
        return read
    named = _variant_column(header)
    seen: dict[int, int] = {}
    for number, cells in rows[1:]:
        _read_row(read, number, cells, named, columns, variants, seen)
    for index, variant in enumerate(variants):
        if index not in seen and not read.errors:
            read.refuse("report", f"has no row for the variant '{variant.key}' ({variant.name})")
    return read


def _read_row(
    read: ReadReport,
    number: int,
    cells: list[str],
    named: int,
    columns: dict[str, int],
    variants: Sequence[Variant],
    seen: dict[int, int],
) -> None:
    path = f"report.line_{number}"
    label = cells[named].strip() if named < len(cells) else ""
    if _words(label) in TOTAL_ROWS:
        return
    index = _variant_of(label, variants)
    if index is None:
        keys = ", ".join(variant.key for variant in variants)
        shown = printable(label[:MAX_CELL])
        read.refuse(path, f"'{shown}' is not a variant of this experiment (its keys: {keys})")
        return
    if index in seen:
        read.refuse(path, f"names '{variants[index].key}' again (line {seen[index]} did)")
        return
    seen[index] = number
    for name, column in columns.items():
        cell = cells[column].strip() if column < len(cells) else ""
        value = _number(cell, integer=not name.startswith("revenue"))
        if value is None:
            shown = printable(cell[:MAX_CELL])
            read.refuse(f"{path}.{name}", f"'{shown}' is not a number this cell takes")
        elif value:
            read.cells[f"{name}_{index}"] = value


def _split(lines: list[tuple[int, str]]) -> list[tuple[int, list[str]]]:
    """Each line's cells: by tabs when the header has one (a table copied from a page), else
    by semicolons or commas, whichever the header has more of (quoted cells as in CSV)."""
    header = lines[0][1]
    delimiter = "\t" if "\t" in header else (";" if header.count(";") > header.count(",") else ",")
    try:
        return [(number, next(csv.reader([line], delimiter=delimiter))) for number, line in lines]
    except (csv.Error, StopIteration):
        return [(number, line.split(delimiter)) for number, line in lines]


def _words(cell: str) -> str:
    """A header or label as plain lower-case words ("Unique Opens (#)" → "unique opens")."""
    kept = "".join(char if char.isalnum() else " " for char in cell.lower())
    return " ".join(kept.split())


def _columns(header: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for name, synonyms in COLUMNS.items():
        for synonym in synonyms:
            if synonym in header:
                found[name] = header.index(synonym)
                break
    return found


def _variant_column(header: list[str]) -> int:
    """The column naming the variant: the first named like one, else the first column."""
    return next((i for i, words in enumerate(header) if words in VARIANT_COLUMNS), 0)


def _variant_of(label: str, variants: Sequence[Variant]) -> int | None:
    """The position of the variant `label` names: by key, by name, or by letter ("B")."""
    words = _words(label)
    for index, variant in enumerate(variants):
        if label.lower() in (variant.key, variant.name.lower()) or words == _words(variant.name):
            return index
    letter = words.rsplit(" ", 1)[-1] if words else ""
    if len(letter) == 1 and letter in string.ascii_lowercase:
        position = string.ascii_lowercase.index(letter)
        return position if position < len(variants) else None
    return None


def _number(cell: str, *, integer: bool) -> str | None:
    """`cell` as a plain number ("12 345" → "12345", "kr 1.234,50" → "1234.50"), "" for an
    empty cell or a dash, None when it is not a number (a rate "12 %" is not a count)."""
    text = _CURRENCY.sub("", cell.replace("\u00a0", " ").replace("\u202f", " ").strip())
    if text in ("", "-", "–"):
        return ""
    if len(text) > 40:
        return None
    if _GROUPED.fullmatch(text):
        return re.sub(r"[,.' ]", "", text)
    if integer:
        return text if re.fullmatch("[0-9]+", text) else None
    decimal = _DECIMAL.fullmatch(text)
    if decimal is None:
        return None
    whole = re.sub(r"[,.' ]", "", decimal.group(1) or decimal.group(3))
    fraction = decimal.group(2) or decimal.group(4)
    return whole + ("." + fraction[1:] if fraction else "")
