"""An e-mail tool's report read into the counts form's cells: the usual shapes (copied from a
page with tabs, exported as CSV with commas or semicolons), and hostile pastes, each an error at
`report` or at its line, never an exception or a guess."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.pages.workspace.pasted_report import MAX_LINES, Variant, read_report

VARIANTS = [Variant("control", "Spring sale"), Variant("subject-b", "20 % off until Sunday")]


def test_a_table_copied_from_a_page_with_tabs() -> None:
    report = (
        "Version\tRecipients\tOpens\tUnique opens\tOpen rate\tUnique clicks\tUnsubscribes\n"
        "Version A\t12 345\t6,000\t5,100\t41.3 %\t412\t9\n"
        "Version B\t12 340\t6,400\t5,600\t45.4 %\t498\t–\n"
        "Total\t24 685\t12,400\t10,700\t43.3 %\t910\t9\n"
    )
    read = read_report(report, VARIANTS)
    assert read.errors == {}
    assert read.cells == {
        "sent_0": "12345",
        "opened_0": "5100",  # the unique opens: people, not events
        "clicked_0": "412",
        "unsubscribed_0": "9",
        "sent_1": "12340",
        "opened_1": "5600",
        "clicked_1": "498",
    }


@pytest.mark.parametrize(
    "report",
    [
        'variant,sent,clicked,revenue\ncontrol,"2,000",40,"1,234.50"\nsubject-b,2000,72,980\n',
        "Name;Emails sent;Clicks;Revenue\nSpring sale;2.000;40;kr 1.234,50\n"
        "20 % off until Sunday;2000;72;980,-\n",
        "\n\nsubject-b,sent,clicks\nb,2000,72,\na,2000,40\n\n",
    ],
)
def test_exported_csv_with_commas_or_semicolons(report: str) -> None:
    read = read_report(report, VARIANTS)
    assert read.errors == {}
    assert read.cells["sent_0"] == read.cells["sent_1"] == "2000"
    assert (read.cells["clicked_0"], read.cells["clicked_1"]) == ("40", "72")
    assert read.cells.get("revenue_0") in (None, "1234.50")


@pytest.mark.parametrize(
    ("report", "path", "rule"),
    [
        ("", "report", "needs a header row"),
        ("variant,sent\n", "report", "needs a header row"),
        ("variant\tsent\ncontrol\t1\x00\nsubject-b\t2\n", "report", "NUL"),
        ("variant,sent\ncontrol,1\ud800\n", "report", "Unicode"),
        ("variant,opens\ncontrol,1\nsubject-b,2\n", "report", "no column of recipients"),
        ("variant,sent\n" + "control,1\n" * MAX_LINES, "report", f"at most {MAX_LINES}"),
        ("variant,sent\ncontrol,10\n", "report", "no row for the variant 'subject-b'"),
        ("variant,sent\ncontrol,10\nVersion C,10\n", "report.line_3", "is not a variant"),
        ("variant,sent\ncontrol,10\ncontrol,11\n", "report.line_3", "again (line 2 did)"),
        ("variant,sent\ncontrol,12 %\nb,1\n", "report.line_2.sent", "'12 %' is not a number"),
        ("variant,sent\ncontrol,=1+1\nb,1\n", "report.line_2.sent", "is not a number"),
        ("variant,sent\ncontrol,1.5\nb,1\n", "report.line_2.sent", "is not a number"),
        ("variant,sent\ncontrol,²\nb,1\n", "report.line_2.sent", "is not a number"),
        ("variant,sent\ncontrol," + "9" * 5000 + "\nb,1\n", "report.line_2.sent", "not a"),
        ('variant,sent\n"control,1\nb,1\n', "report.line_2", "is not a variant"),
        ("x" * 5000 + ",sent\n" + "y" * 5000 + ",1\nb,1\n", "report.line_2", "is not a"),
    ],
)
def test_hostile_pastes_are_errors_at_their_line(report: str, path: str, rule: str) -> None:
    read = read_report(report, VARIANTS)
    assert rule in read.errors[path], read.errors
    assert all(len(message) < 400 for message in read.errors.values())


def test_a_count_past_range_fills_its_cell_for_the_api_s_rule_to_refuse() -> None:
    read = read_report("variant,sent\ncontrol,99999999999999999999\nb,1\n", VARIANTS)
    assert read.errors == {} and read.cells["sent_0"] == "99999999999999999999"


@given(st.text(max_size=300))
def test_any_paste_is_read_or_refused_never_raised(report: str) -> None:
    read = read_report(report, VARIANTS)
    assert read.errors or set(read.cells) >= {"sent_0", "sent_1"}
    for value in read.cells.values():
        assert value.replace(".", "", 1).isascii() and value.replace(".", "", 1).isdigit()
