"""What the commands that change a project's resources share: their command group, the
`--path` option and the steps they show while the update underneath runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["ProjectPath", "command_group", "steps"]

ProjectPath = Annotated[
    Path,
    typer.Option(
        "--path",
        "-p",
        metavar="PROJECT",
        show_default=False,
        help="The project (default: the current folder).",
    ),
]
"""`--path PROJECT`, the project a command changes (default: the current folder)."""


def command_group(help: str) -> typer.Typer:
    """A command group (`apiforge add`, `apiforge remove`) whose commands name the thing."""
    return typer.Typer(
        help=help,
        no_args_is_help=True,
        rich_markup_mode=None,
        context_settings={"help_option_names": ["-h", "--help"]},
    )


def steps(rendering: str) -> dict[str, str]:
    """What the status line says at each step of the update: *rendering* while it renders."""
    return {
        "check": "Checking the project…",
        "render": rendering,
        "template": "Committing the template branch…",
        "merge": "Merging…",
    }
