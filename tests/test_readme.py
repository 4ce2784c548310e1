"""Every command of README.md works as written.

The README's code blocks are read in order and run against a live server on a fresh SQLite
database: `curl` lines by the shell, `vekst` commands by the CLI in this process, Python
snippets executed, the script tag's bundle fetched. `make run` is proven by a dry run that
builds nothing and `make test` by its Makefile target. `CHECKS` says what each shell command's
output must contain; a command missing from it, or a code block of another language, fails
`test_every_readme_command_is_checked`, so a new command cannot go untested.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from openfeature import api as openfeature_api
from typer.testing import CliRunner

from api.cli import build_cli
from tests.accounts import PASSWORD, form_token
from tests.conftest import ADMIN_KEY, SDK_KEY
from tests.live_server import running_api
from vekst_sdk import Client

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCUMENTED_URL = "http://127.0.0.1:8000"

# What each shell command's output must contain, keyed by `command_key`. `make` lines are dry
# runs or read from the Makefile; `export` lines set the tour's environment.
CHECKS: dict[str, tuple[str, ...]] = {
    "make run": ("vekst serve --port 8000", "VEKST_LOG_FORMAT=${VEKST_LOG_FORMAT:-human}"),
    "make test": (
        "$(VENV)/bin/ruff check .",
        "$(VENV)/bin/ruff format --check .",
        "$(VENV)/bin/mypy",
        "$(VENV)/bin/lint-imports",
        "npm run --silent check",
        "$(PY) -m pytest",
    ),
    "vekst users create --role admin --email you@example.com": ("you@example.com, role admin",),
    "export VEKST_ADMIN_KEY": (),
    "vekst demo --visitors 40000 --uplift 0.5 --days 3": (
        "SHIP IT: ONE-PAGE",
        "Variant one-page raised purchase conversion by 27 % (95 % CI 3.7 % to 57 %).",
        "Segments by device",
        "device = mobile",
        "Segments that differ",
        "one-page: +55 % on mobile, +2.4 % on the rest (device)",
        "/experiments/checkout-demo-",
    ),
    "curl POST /v1/experiments": ('"key":"checkout-onepage"', '"status":"draft"'),
    "curl POST /v1/experiments/checkout-onepage/start": ('"status":"running"',),
    "curl GET /v1/experiments/checkout-onepage/results": ('"experiment":"checkout-onepage"',),
    "vekst results checkout-onepage": ("checkout-onepage (running)", "Purchase conversion"),
    "vekst experiments": ("checkout-onepage", "checkout-demo-"),
    (
        "vekst holdouts create spring-holdout --name Spring holdout --share 0.05 "
        "--ends-at 2029-06-30"
    ): ("spring-holdout: running, 5 % held out", "covers: all new experiments"),
    "vekst analyze proportion control=10000/250 treatment=10000/300": (
        "+20 % (+1.7 % to +42 %)",
        "not yet enough evidence",
    ),
    "vekst sample-size --baseline 0.025 --mde 0.1": ("122,929",),
}
LANGUAGES = {"sh", "python", "html"}
# Guides whose commands are run too, with a generic check (no error answer, exit code 0).
GUIDES_RUN = [ROOT / "docs" / "api.md", ROOT / "docs" / "sdks.md"]


def code_blocks(markdown: str) -> list[tuple[str, str]]:
    """The fenced code blocks of `markdown`, in order, as (language, text)."""
    return re.findall(r"^```(\w*)\n(.*?)^```$", markdown, flags=re.MULTILINE | re.DOTALL)


def shell_commands(block: str) -> list[str]:
    """A shell block's commands: continued lines and quoted bodies joined into one."""
    commands: list[str] = []
    pending = ""
    for line in block.splitlines():
        pending = f"{pending}\n{line}" if pending else line
        try:
            words = shlex.split(pending, comments=True)
        except ValueError:  # a quote still open: the body goes on
            continue
        if pending.rstrip().endswith("\\"):
            continue
        if words:
            commands.append(pending)
        pending = ""
    assert not pending, f"an unfinished command in the README: {pending!r}"
    return commands


def command_key(command: str) -> str:
    """How CHECKS names a command: its words, a `curl` as its method and path, `vekst` without
    the venv's path, and `export` as the name it sets."""
    words = shlex.split(command, comments=True)
    if words[0] == "curl":
        method = words[words.index("-X") + 1] if "-X" in words else "GET"
        url = next(word for word in words if word.startswith(DOCUMENTED_URL))
        return f"curl {method} {url.removeprefix(DOCUMENTED_URL).split('?')[0]}"
    if words[0] == "export":
        return f"export {words[1].split('=')[0]}"
    if words[0] == ".venv/bin/vekst":
        words[0] = "vekst"
    return " ".join(words)


def readme_commands() -> list[str]:
    return [
        command
        for language, text in code_blocks(README.read_text(encoding="utf-8"))
        if language == "sh"
        for command in shell_commands(text)
    ]


def test_every_readme_command_is_checked() -> None:
    blocks = code_blocks(README.read_text(encoding="utf-8"))
    assert {language for language, _ in blocks} <= LANGUAGES
    keys = [command_key(command) for command in readme_commands()]
    assert sorted(keys) == sorted(CHECKS), "a README command without its check, or a stale check"


@pytest.mark.processes
def test_make_run_serves_on_port_8000_and_builds_nothing() -> None:
    """A dry run with the install stamp assumed old (`-o`): no venv is made and no pip runs."""
    make = shutil.which("make")
    if make is None:
        pytest.skip("make is not installed")
    dry_run = subprocess.run(
        [make, "-n", "-C", str(ROOT), "-o", ".venv/.installed", "run"],
        capture_output=True,
        text=True,
        check=True,
    )
    commands = [line for line in dry_run.stdout.splitlines() if not line.startswith("make")]
    assert len(commands) == 1, dry_run.stdout
    for expected in CHECKS["make run"]:
        assert expected in commands[0]


def test_make_test_installs_the_dev_tools_and_runs_every_check() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    target = re.search(r"^test: (.*)\n((?:\t.*\n)+)", makefile, flags=re.MULTILINE)
    assert target is not None, "no `test` target in the Makefile"
    assert target.group(1) == "$(INSTALLED_DEV) $(JS_INSTALLED)"
    recipe = target.group(2)
    for expected in CHECKS["make test"]:
        assert expected in recipe


class Tour:
    """The README's commands run in order against one live server and its database."""

    def __init__(self, base_url: str, database_url: str) -> None:
        self.base_url = base_url
        self.keys = {"vk_admin_...": ADMIN_KEY, "vk_sdk_...": SDK_KEY}
        self.environment = {"VEKST_DATABASE_URL": database_url, "SDK_KEY": SDK_KEY}

    def on_this_server(self, text: str) -> str:
        for placeholder, key in self.keys.items():
            text = text.replace(placeholder, key)
        return text.replace(DOCUMENTED_URL, self.base_url)

    def shell(self, command: str) -> str | None:
        """Run one shell command; its output, or None for one with nothing to show here."""
        key = command_key(command)
        words = shlex.split(self.on_this_server(command), comments=True)
        if words[0] == "make":
            return None  # proven by the two make tests above
        if words[0] == "export":
            name, value = words[1].split("=", 1)
            self.environment[name] = value
            return None
        if words[0] == "curl":
            answer = subprocess.run(
                ["bash", "-c", self.on_this_server(command)],
                env={"PATH": os.environ["PATH"], **self.environment},
                capture_output=True,
                text=True,
                check=True,
            )
            return answer.stdout
        # The demo talks HTTP to port 8000 by default; here the live server is elsewhere.
        arguments = words[1:] + (["--api-url", self.base_url] if words[1] == "demo" else [])
        # `vekst users create` asks for the password; here it comes on standard input.
        typed = f"{PASSWORD}\n" if words[1] == "users" else None
        result = CliRunner().invoke(build_cli(), arguments, input=typed, env=self.environment)
        assert result.exit_code == 0, f"{key}: {result.output}"
        server_key = re.search(r"vk_server_\w+", result.output)
        if server_key:
            self.keys["vk_server_..."] = server_key.group(0)
        return result.output

    def python(self, snippet: str) -> dict[str, Any]:
        """Execute a Python snippet; the names it made, its SDK clients closed."""
        names: dict[str, Any] = {}
        try:
            exec(self.on_this_server(snippet), names)
        finally:
            openfeature_api.shutdown()
            for value in names.values():
                if isinstance(value, Client):
                    value.close()
        return names

    def html(self, page: str) -> None:
        [bundle_url] = re.findall(r'<script src="https://ab\.shop\.example(/[^"]+)"', page)
        served = subprocess.run(
            ["curl", "-sf", f"{self.base_url}{bundle_url}"], capture_output=True, check=True
        ).stdout
        for name in ("createClient", "ready", "assign"):
            assert f"{name}(" in page and name.encode() in served
        assert len(gzip.compress(served, 9)) < 5000  # "under 5 KB gzipped", its budget


def _the_marketer_reads_the_page(base_url: str, demo_output: str) -> None:
    """The marketer's tour after the demo: log in with the account the README made, pick the
    experiment from the list, and find the verdict, the chart, the tables and the stop
    button."""
    [key] = set(re.findall(r"/experiments/(checkout-demo-[0-9a-f]{6})", demo_output))
    with httpx.Client(base_url=base_url) as browser:
        account = {"email": "you@example.com", "password": PASSWORD, "csrf": form_token(browser)}
        assert browser.post("/login", data=account).status_code == 303
        assert f'href="/experiments/{key}"' in browser.get("/").text
        page = browser.get(f"/experiments/{key}").text
    for expected in ("Ship one-page", "<svg", '<table class="readings"', "Stop the experiment"):
        assert expected in page, expected


def _the_sdk_and_openfeature_agree(names: dict[str, Any]) -> None:
    """The Python snippet got a live variant, its payload, and the same from OpenFeature."""
    assignment = names["assignment"]
    assert assignment.in_experiment
    assert names["layout"] == {"multi-step": "multi", "one-page": "one"}[assignment.variant]
    assert names["variant"] == assignment.variant


@pytest.mark.processes
def test_the_readme_runs_as_written(sqlite_url: str) -> None:
    # No scheduler: its first tick (ten seconds after the start) could fall while the demo's
    # traffic arrives, and the looks it backfilled from part of that traffic would then narrow
    # the running intervals the README quotes.
    with running_api(sqlite_url, VEKST_START_SCHEDULER="false") as base_url:
        tour = Tour(base_url, sqlite_url)
        for language, text in code_blocks(README.read_text(encoding="utf-8")):
            if language == "python":
                _the_sdk_and_openfeature_agree(tour.python(text))
            elif language == "html":
                tour.html(text)
            else:
                for command in shell_commands(text):
                    output = tour.shell(command)
                    if output is None:
                        continue
                    for expected in CHECKS[command_key(command)]:
                        assert expected in output, f"{command_key(command)}:\n{output}"
                    if command_key(command).startswith("vekst demo"):
                        _the_marketer_reads_the_page(base_url, output)


def _is_problem(answer: str) -> bool:
    """Whether a curl answer is an error (application/problem+json carries a numeric status)."""
    body = json.loads(answer)
    return isinstance(body, dict) and isinstance(body.get("status"), int)


@pytest.mark.processes
def test_the_api_and_sdk_guides_run_as_written(sqlite_url: str) -> None:
    """docs/api.md, then docs/sdks.md: no curl line gets an error, every `vekst` command and
    Python snippet runs, the script tag's bundle is served."""
    with running_api(sqlite_url) as base_url:
        tour = Tour(base_url, sqlite_url)
        for guide in GUIDES_RUN:
            for language, text in code_blocks(guide.read_text(encoding="utf-8")):
                if language == "python":
                    tour.python(text)
                elif language == "html":
                    tour.html(text)
                elif language == "sh":  # a json block shows an answer: nothing to run
                    for command in shell_commands(text):
                        output = tour.shell(command)
                        if command.startswith("curl"):
                            assert output is not None and not _is_problem(output), output
