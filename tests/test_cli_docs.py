"""Every command is in `banso --help` and in README.md, so users can find it."""

from __future__ import annotations

from pathlib import Path

import typer.main
from typer.testing import CliRunner

from banso.cli import app

README = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")


def _command_paths() -> list[str]:
    root = typer.main.get_command(app)
    paths = []
    for name, command in root.commands.items():  # type: ignore[attr-defined]
        if hasattr(command, "commands"):
            paths.extend(f"{name} {sub}" for sub in command.commands)
        else:
            paths.append(name)
    return paths


def test_every_command_is_in_the_readme() -> None:
    groups_or_commands = {path.split()[0] for path in _command_paths()}
    missing = sorted(name for name in groups_or_commands if f"banso {name}" not in README)
    assert missing == [], f"document these commands in README.md: {missing}"


def test_every_command_has_help() -> None:
    runner = CliRunner()
    for path in _command_paths():
        result = runner.invoke(app, [*path.split(), "--help"])
        assert result.exit_code == 0, f"banso {path} --help failed: {result.output}"
        assert "Usage" in result.output
