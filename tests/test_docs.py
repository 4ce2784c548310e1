"""The guides say what the code does: every setting in docs/configuration.md is a field of the
settings class and the reverse, docs/cli.md shows every `vekst` command and only options that
exist, every route the README and the guides name is served, and every link of README.md
leads to a file of this repository."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import typer
from typer.core import TyperGroup

from api.app import create_app
from api.cli import build_cli
from experiments.settings import Settings, load_settings
from tests.test_readme import code_blocks, command_key, shell_commands

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
GUIDES = [
    ROOT / "README.md",
    *(DOCS / name for name in ("api.md", "sdks.md", "cli.md")),
]


def test_the_configuration_table_lists_exactly_the_settings() -> None:
    table = (DOCS / "configuration.md").read_text(encoding="utf-8").split("| variable |", 1)[1]
    documented = {
        name.removeprefix("VEKST_").lower()
        for row in table.splitlines()
        if row.startswith("| `VEKST_")
        for name in re.findall(r"`(VEKST_\w+)`", row.split(" | ")[0])
    }
    assert documented == set(Settings.model_fields)


def _command(group: TyperGroup, path: list[str]) -> Any:
    """The command `path` names in `group`, taking as many words as are subcommands."""
    command: Any = group
    for word in path:
        if not isinstance(command, TyperGroup) or word not in command.commands:
            break
        command = command.commands[word]
    return command


def test_every_command_and_option_of_the_cli_guide_exists() -> None:
    guide = (DOCS / "cli.md").read_text(encoding="utf-8")
    lines = [
        line
        for block in re.findall(r"^```sh\n(.*?)^```$", guide, flags=re.MULTILINE | re.DOTALL)
        for line in block.splitlines()
        if line.startswith(".venv/bin/vekst ")
    ]
    assert len(lines) >= 15
    cli = typer.main.get_command(build_cli())
    assert isinstance(cli, TyperGroup)
    named = {shlex.split(line)[1] for line in lines}
    assert named == set(cli.commands), "docs/cli.md shows every command once at least"
    for line in lines:
        words = shlex.split(line, comments=True)[1:]
        command = _command(cli, words)
        runs_alone = not isinstance(command, TyperGroup) or command.invoke_without_command
        assert runs_alone, f"{line}: no such command"
        options = {name for parameter in command.params for name in parameter.opts}
        for word in words:
            if word.startswith("--"):
                assert word in options, f"{line}: no option {word}"


def test_every_link_of_the_readme_leads_to_a_file() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)#]+)\)", readme)
    local = [target for target in targets if not target.startswith("http")]
    assert len(local) >= 10
    for target in local:
        assert (ROOT / target).exists(), target


def _api_routes(database_url: str) -> set[tuple[str, str]]:
    """(method, path template) of every operation in the app's OpenAPI."""
    paths = create_app(load_settings(database_url=database_url)).openapi()["paths"]
    return {(method.upper(), path) for path, operations in paths.items() for method in operations}


def _served(method: str, path: str, routes: set[tuple[str, str]]) -> bool:
    for served_method, template in routes:
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
        if served_method == method and re.fullmatch(pattern, path):
            return True
    return False


def test_every_api_route_the_guides_name_is_served(sqlite_url: str) -> None:
    """The API's routes (the pages' own are in docs/pages.md, with their tests)."""
    routes = _api_routes(sqlite_url)
    named: set[tuple[str, str]] = set()
    for guide in GUIDES:
        text = guide.read_text(encoding="utf-8")
        named.update(re.findall(r"\b(GET|POST|PATCH|DELETE) (/[\w/{}.-]*[\w}])", text))
        for language, block in code_blocks(text):
            if language == "sh":
                for command in shell_commands(block):
                    if command.startswith("curl "):
                        method, path = command_key(command).split(" ")[1:]
                        named.add((method, path))
    api = {(method, path) for method, path in named if path.startswith(("/v1/", "/readyz"))}
    assert len(api) >= 20
    assert sorted(route for route in api if not _served(*route, routes)) == []
