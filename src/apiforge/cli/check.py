"""`apiforge check [PROJECT]`: for CI, exit 0 when current, 1 when behind, 2 when broken."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from apiforge.cli.console import out

__all__ = ["check"]


def check(
    project: Annotated[
        Path,
        typer.Argument(
            metavar="PROJECT",
            show_default=False,
            help="The project to check (default: the current folder).",
        ),
    ] = Path(),
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object instead of text.")
    ] = False,
) -> None:
    """Say whether a project is on this apiforge's template version.

    Exits 0 when it is, 1 when it is behind (printing the changelog entries it is
    missing), and 2 when the folder is not an apiforge project or its answers file
    is broken.
    """
    from apiforge.check import check_project

    result = check_project(project)
    if result.update_in_progress and not as_json:
        out().print(
            "[warning]An update is in progress[/] (a merge with conflicts): resolve them and "
            "`git commit`, or go back with `apiforge update --undo`. What follows is the "
            "committed state.",
            soft_wrap=True,
        )
    if not as_json:
        for note in result.notes:
            out().print(note, markup=False, soft_wrap=True)
    if as_json:
        import json

        typer.echo(json.dumps(result.as_dict(), indent=2))
    elif not result.behind:
        out().print(
            f"[success]{result.project.name} is up to date[/] "
            f"(template {result.current}, the newest)."
        )
    else:
        out().print(
            f"[warning]{result.project.name} is behind:[/] template {result.current}; "
            f"{result.latest} is available."
        )
        for entry in result.changes:
            out().print(f"\n[bold]## {entry.version}[/]")
            out().print(entry.text, markup=False, soft_wrap=True)
        out().print("\nRun `apiforge update` to bring it up to date.", markup=False)
    if result.behind:
        raise typer.Exit(1)
