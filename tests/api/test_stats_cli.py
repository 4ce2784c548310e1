"""`vekst analyze` and `vekst sample-size`."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner, Result

import stats
from api.cli import build_cli
from api.cli.stats import ANALYZE_FLAGS, flag_message, parse_variant
from experiments.results.words.formatting import percent


def vekst(*arguments: str) -> Result:
    """Run the `vekst` command line with `arguments`."""
    return CliRunner().invoke(build_cli(), list(arguments))


def test_analyze_prints_a_table() -> None:
    result = vekst("analyze", "proportion", "control=10000/250", "treatment=10000/300")
    assert result.exit_code == 0, result.output
    assert "+20 % (+1.7 % to +42 %)" in result.output
    assert "0.031" in result.output and "98 %" in result.output
    assert "peeking-safe" in result.output
    text = " ".join(result.output.split())  # the console wraps long lines
    assert "chance to beat the control is high (98 %), but there is not yet enough" in text
    # Which planned size tuned the sequential reading, and how to match a results page.
    assert "tuned for 10,000 planned units per variant (the default)" in text
    assert "pass --planned-units N with that size" in text
    tuned = vekst(
        "analyze",
        "proportion",
        "control=10000/250",
        "treatment=10000/300",
        "--planned-units",
        "64196",
    )
    assert "tuned for 64,196 planned units per variant (--planned-units)" in " ".join(
        tuned.output.split()
    )


def test_minimums_are_options() -> None:
    thin = ["analyze", "proportion", "control=1000/5", "treatment=1000/0"]
    withheld = vekst(*thin)
    assert withheld.exit_code == 0, withheld.output
    assert "treatment: not enough data yet" in withheld.output
    read = vekst(*thin, "--minimum-conversions", "5")
    assert read.exit_code == 0, read.output
    assert "not enough data yet" not in read.output
    bad = vekst(*thin, "--minimum-units", "-1")
    assert bad.exit_code == 2 and "--minimum-units" in bad.output


def test_mean_and_ratio_forms() -> None:
    mean = vekst("analyze", "mean", "a=1000/650000/9e8", "b=1000/700000/1e9")
    assert mean.exit_code == 0, mean.output
    ratio = vekst(
        "analyze",
        "ratio",
        "a=5000/100950.08/124518956.33/146/200/138271.01",
        "b=5000/102630.78/118584475.83/147/179/125738.95",
    )
    assert ratio.exit_code == 0, ratio.output
    # Without the units with an order, the spread's count is Kish's, and the output says so.
    assert "106.6 (Kish estimate)" in ratio.output
    assert "NAME=.../nonzero_units" in " ".join(ratio.output.split())
    counted = vekst(
        "analyze",
        "ratio",
        "a=5000/100950.08/124518956.33/146/200/138271.01/110",
        "b=5000/102630.78/118584475.83/147/179/125738.95/120",
    )
    assert counted.exit_code == 0, counted.output
    assert "110.0 (given)" in counted.output and "Kish" not in counted.output


def test_bad_counts_exit_2_with_the_rule_naming_the_variant_as_typed() -> None:
    result = vekst("analyze", "proportion", "control=100/250", "treatment=100/3")
    assert result.exit_code == 2
    assert result.output == (
        "error: control=100/250: its conversions must be <= n "
        "(each variant is NAME=n/conversions)\n"
    )
    swapped = vekst("analyze", "proportion", "control=10000/250", "buy-now=300/10000")
    assert "error: buy-now=300/10000: its conversions must be <= n" in swapped.output
    assert "variant 2" not in swapped.output


def test_parse_variant() -> None:
    assert parse_variant("proportion", "a=10/2") == {"key": "a", "n": 10, "conversions": 2}
    for text in ("a=10", "=10/2", "a10/2", "a=x/2"):
        with pytest.raises(typer.BadParameter):
            parse_variant("proportion", text)


def test_sample_size() -> None:
    result = vekst("sample-size", "--baseline", "0.025", "--mde", "0.1", "--daily-units", "5000")
    assert result.exit_code == 0, result.output
    assert "units per variant: 122,929 (sequential test)" in result.output
    assert "days to run:" in result.output
    assert "warning" not in result.output
    fixed = vekst("sample-size", "--baseline", "0.025", "--mde", "0.1", "--test", "fixed")
    assert "units per variant: 64,196 (fixed test)" in fixed.output


def test_sample_size_warns_beyond_a_year() -> None:
    result = vekst("sample-size", "--baseline", "0.025", "--mde", "0.01", "--daily-units", "100")
    assert result.exit_code == 0, result.output
    assert "days to run:       about 645.5 years (235,608 days)" in result.output
    assert "warning: that is more than a year" in result.output


def test_errors_name_the_flag_not_the_field() -> None:
    result = vekst("sample-size", "--baseline", "1.5", "--mde", "0.1")
    assert result.exit_code == 2
    assert "--baseline must be a number strictly between 0 and 1" in result.output
    assert "baseline_rate" not in result.output
    both = vekst(
        "sample-size",
        "--baseline",
        "0.1",
        "--baseline-mean",
        "5",
        "--baseline-sd",
        "1",
        "--mde",
        "0.1",
    )
    assert both.exit_code == 2 and "_" not in both.output.split("error:")[1]


def test_what_a_list_can_detect() -> None:
    result = vekst(
        "sample-size", "--baseline", "0.03", "--list-size", "20000", "--test-share", "0.2"
    )
    assert result.exit_code == 0, result.output
    expected = stats.detectable_effect(units_per_variant=2000, baseline_rate=0.03)
    assert (
        f"With 2,000 subscribers per variant your list can detect a change of "
        f"{percent(expected.mde_relative)} or more (from 3 %; sequential test)." in result.output
    )


def test_what_a_list_can_detect_follows_the_planned_test() -> None:
    fixed = vekst("sample-size", "--baseline", "0.03", "--list-size", "20000", "--test", "fixed")
    assert fixed.exit_code == 0, fixed.output
    expected = stats.detectable_effect(units_per_variant=10_000, baseline_rate=0.03, test="fixed")
    sequential = stats.detectable_effect(units_per_variant=10_000, baseline_rate=0.03)
    assert expected.mde_relative < sequential.mde_relative  # one look detects smaller changes
    assert f"a change of {percent(expected.mde_relative)} or more" in fixed.output
    assert "(from 3 %; fixed test)" in fixed.output


def test_what_a_list_can_detect_on_a_mean_metric() -> None:
    result = vekst(
        "sample-size", "--baseline-mean", "450", "--baseline-sd", "300", "--list-size", "20000"
    )
    assert result.exit_code == 0, result.output
    expected = stats.detectable_effect(
        units_per_variant=10_000, baseline_mean=450.0, baseline_sd=300.0
    )
    assert f"a change of {percent(expected.mde_relative)} or more" in result.output
    assert "(from a mean of 450.00; sequential test)" in result.output


def test_what_a_list_can_detect_needs_one_baseline() -> None:
    missing = vekst("sample-size", "--list-size", "20000")
    assert missing.exit_code == 2
    assert "--baseline" in missing.output
    half = vekst("sample-size", "--baseline-mean", "450", "--list-size", "20000")
    assert half.exit_code == 2
    assert "--baseline-sd" in half.output


def test_a_list_larger_than_a_count_is_refused_naming_the_flag() -> None:
    huge = vekst("sample-size", "--baseline", "0.03", "--list-size", str(2**64))
    assert huge.exit_code == 2
    assert "--list-size" in huge.output


def test_analyze_with_one_arm_shows_how_to_write_two_and_no_flag_it_lacks() -> None:
    result = vekst("analyze", "proportion", "control=10000/250")
    assert result.exit_code == 2
    assert result.output == (
        "error: analyze compares at least two variants, the control first: "
        "vekst analyze proportion control=10000/250 buy-now=10000/300\n"
    )
    assert "--variants" not in result.output


def test_analyze_errors_name_its_own_flags() -> None:
    result = vekst("analyze", "proportion", "a=100/2", "b=100/3", "--alternative", "up")
    assert result.output == "error: --alternative must be one of: two-sided, greater, less\n"
    assert "--variants" not in flag_message(
        stats.StatsInputError("variants", "variants must hold at least two variants"),
        ANALYZE_FLAGS,
    )


def test_an_mde_above_five_is_refused_with_a_hint() -> None:
    result = vekst("sample-size", "--baseline", "0.025", "--mde", "10")
    assert result.exit_code == 2
    assert result.output == (
        "error: --mde 10 means a change of +1,000 %, more than the +500 % allowed; "
        "for 10 % write 0.1 (or 10%)\n"
    )
    assert vekst("sample-size", "--baseline", "0.025", "--mde", "5").exit_code == 0
    huge = vekst("sample-size", "--baseline", "0.025", "--mde", "600%")
    assert "such a test needs a handful of visitors" in huge.output


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (["--baseline", "2.5%", "--mde", "10%"], "units per variant: 122,929 (sequential test)"),
        (["--baseline", "2.5 %", "--mde", "0.1"], "units per variant: 122,929 (sequential test)"),
        (
            ["--baseline", "3%", "--list-size", "20000", "--test-share", "20%"],
            "With 2,000 subscribers per variant",
        ),
    ],
)
def test_per_cent_input_is_accepted(flags: list[str], expected: str) -> None:
    result = vekst("sample-size", *flags)
    assert result.exit_code == 0, result.output
    assert expected in result.output


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (
            ["--baseline", "0.03", "--list-size", "20000", "--test-share", "20"],
            "error: --test-share must be a number above 0 and at most 1; "
            "for 20 % write 0.2 (or 20%)\n",
        ),
        (
            ["--baseline", "2.5", "--mde", "0.1"],
            "error: --baseline must be a number strictly between 0 and 1; "
            "for 2.5 % write 0.025 (or 2.5%)\n",
        ),
        (
            ["--baseline", "2,5%", "--mde", "0.1"],
            "error: --baseline '2,5%' is not a number; write it like 0.025 or 2.5%\n",
        ),
        (
            ["--baseline", "0.025", "--mde", "nan"],
            "error: --mde 'nan' is not a number; write it like 0.1 or 10%\n",
        ),
        (
            ["--baseline", "0.025", "--mde", "0.1", "--power", "80"],
            "error: --power must be a number strictly between 0 and 1; "
            "for 80 % write 0.8 (or 80%)\n",
        ),
    ],
)
def test_per_cent_mistakes_are_refused_with_an_example(flags: list[str], message: str) -> None:
    result = vekst("sample-size", *flags)
    assert result.exit_code == 2
    assert result.output == message
