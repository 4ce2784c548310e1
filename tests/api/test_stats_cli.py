"""`vekst analyze` and `vekst sample-size`."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from api.cli import build_cli
from api.cli.stats import parse_variant


def test_analyze_prints_a_table() -> None:
    result = CliRunner().invoke(
        build_cli(), ["analyze", "proportion", "control=10000/250", "treatment=10000/300"]
    )
    assert result.exit_code == 0, result.output
    assert "+20.0% [+1.7%, +41.9%]" in result.output
    assert "0.03062" in result.output and "yes" in result.output
    assert "peeking-safe" in result.output


def test_minimums_are_options() -> None:
    thin = ["analyze", "proportion", "control=1000/5", "treatment=1000/0"]
    withheld = CliRunner().invoke(build_cli(), thin)
    assert withheld.exit_code == 0, withheld.output
    assert "not_enough_data" in withheld.output
    read = CliRunner().invoke(build_cli(), [*thin, "--minimum-conversions", "5"])
    assert read.exit_code == 0, read.output
    assert "not_enough_data" not in read.output
    bad = CliRunner().invoke(build_cli(), [*thin, "--minimum-units", "-1"])
    assert bad.exit_code == 2 and "minimums.units" in bad.output


def test_mean_and_ratio_forms() -> None:
    runner = CliRunner()
    mean = runner.invoke(build_cli(), ["analyze", "mean", "a=1000/650000/9e8", "b=1000/700000/1e9"])
    assert mean.exit_code == 0, mean.output
    ratio = runner.invoke(
        build_cli(),
        [
            "analyze",
            "ratio",
            "a=5000/100950.08/124518956.33/146/200/138271.01",
            "b=5000/102630.78/118584475.83/147/179/125738.95",
        ],
    )
    assert ratio.exit_code == 0, ratio.output


def test_bad_counts_exit_2_with_the_rule() -> None:
    result = CliRunner().invoke(
        build_cli(), ["analyze", "proportion", "control=100/250", "treatment=100/3"]
    )
    assert result.exit_code == 2
    assert "variants[0].conversions must be <= n" in result.output


def test_parse_variant() -> None:
    assert parse_variant("proportion", "a=10/2") == {"key": "a", "n": 10, "conversions": 2}
    for text in ("a=10", "=10/2", "a10/2", "a=x/2"):
        with pytest.raises(typer.BadParameter):
            parse_variant("proportion", text)


def test_sample_size() -> None:
    result = CliRunner().invoke(
        build_cli(), ["sample-size", "--baseline", "0.025", "--mde", "0.1", "--daily-units", "5000"]
    )
    assert result.exit_code == 0, result.output
    assert "units per variant: 122,929 (sequential test)" in result.output
    assert "days to run:" in result.output
    fixed = CliRunner().invoke(
        build_cli(), ["sample-size", "--baseline", "0.025", "--mde", "0.1", "--test", "fixed"]
    )
    assert "units per variant: 64,196 (fixed test)" in fixed.output
