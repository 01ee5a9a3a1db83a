"""`apiforge remove resource NAME`: options in, one call to the core, Rich output."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from apiforge.cli.console import out
from apiforge.cli.resource_options import ProjectPath, command_group, steps

if TYPE_CHECKING:
    from apiforge.remove import RemoveResult

__all__ = ["app"]

app = command_group("Remove from a generated project.")

_STEPS = steps("Rendering the template without the resource…")


@app.command("resource")
def resource(
    name: Annotated[
        str,
        typer.Argument(metavar="NAME", show_default=False, help="The resource to remove."),
    ],
    path: ProjectPath = Path(),
) -> None:
    """Remove a resource's code, with a new migration that drops its table.

    The model, repository, service, schemas, routes, tests and the router's
    registration go. The resource's migrations stay (deployed databases ran
    them) and a new one after the project's head drops the table; its
    downgrade creates the table again, empty. Refused while another resource
    references this one. The change is one merge commit (`apiforge update
    --undo` takes it back); the name can be used for a new resource later.

    \b
    Examples:
      apiforge remove resource product
      apiforge remove resource note --path services/notes
    """
    from apiforge.remove import RemoveOptions, remove_resource

    options = RemoveOptions(name=name, project=path)
    with out().status(_STEPS["check"]) as status:
        result = remove_resource(
            options, progress=lambda step: status.update(_STEPS.get(step, step))
        )
    _report(result)


def _report(result: RemoveResult) -> None:
    console = out()
    console.print(
        f"[success]Removed[/] the resource [bold]{result.resource.name}[/] from "
        f"[path]{result.project.name}[/]; its table is dropped by {result.migration}",
        soft_wrap=True,
    )
    for path in result.removed:
        console.print(f"  [success]removed[/]  {path}", soft_wrap=True)
    for path in result.changed:
        console.print(f"  [success]updated[/]  {path}", soft_wrap=True)
    for path in result.kept:
        console.print(
            f"  [warning]kept[/]     {path} (changed by your team; delete it or keep it)",
            soft_wrap=True,
        )
    console.print(f"  [success]added[/]    {result.migration}", soft_wrap=True)
    console.print("[muted]One merge commit; undo it with `apiforge update --undo`.[/]")
    console.print("\nNext steps:")
    console.print("  uv run alembic upgrade head   # drops the table and its rows")
    console.print("  uv run pytest")
