"""`apiforge add field RESOURCE`: options in, one call to the core, Rich output."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from apiforge.cli.console import out
from apiforge.cli.resource_options import ProjectPath, steps

if TYPE_CHECKING:
    from apiforge.fields import AddFieldResult

__all__ = ["field"]

_STEPS = steps("Rendering the template with the new fields…")


def field(
    resource: Annotated[
        str,
        typer.Argument(
            metavar="RESOURCE", show_default=False, help="The resource to add fields to."
        ),
    ],
    field: Annotated[
        list[str] | None,
        typer.Option(
            "--field",
            "-f",
            metavar="SPEC",
            show_default=False,
            help="A field as NAME:TYPE[:LENGTH][:MODIFIER...], as for add resource (repeatable).",
        ),
    ] = None,
    path: ProjectPath = Path(),
) -> None:
    """Add fields to a resource, with a new migration that adds their columns.

    The model, schemas and tests take the fields; a new migration after the
    project's head adds the columns (migrations already applied never change).
    The change is recorded in the project's answers, so `apiforge update` keeps
    it, and it is one merge commit (`apiforge update --undo` takes it back).

    \b
    Rows that exist already:
      optional fields       are null
      str, text             get '' (empty text)
      int, float, decimal   get 0
      bool                  gets false
      date, datetime, uuid  no value fits every row: the field is added as optional
    A unique field must be optional (sku:str:unique?); it becomes a unique
    index. Owned resources take no new unique fields.

    \b
    Examples:
      apiforge add field product -f sku:str:32?
      apiforge add field product -f stock:int -f featured:bool
      apiforge add field note -f due:date --path services/notes
    """
    from apiforge.fields import AddFieldOptions, add_field

    options = AddFieldOptions(resource=resource, fields=field or [], project=path)
    with out().status(_STEPS["check"]) as status:
        result = add_field(options, progress=lambda step: status.update(_STEPS.get(step, step)))
    _report(result)


def _report(result: AddFieldResult) -> None:
    console = out()
    resource = result.resource
    names = ", ".join(added.field.name for added in result.change.fields)
    console.print(
        f"[success]Added[/] {names} to the resource [bold]{resource.name}[/] of "
        f"[path]{result.project.name}[/]",
        soft_wrap=True,
    )
    for added in result.change.fields:
        if added.server_default is not None:
            rows = f"existing rows get the server default {added.server_default!r}"
        elif added.field.name in result.made_optional:
            rows = (
                f"added as optional (no {added.field.type} fits every row): existing rows are null"
            )
        else:
            rows = "optional: existing rows are null"
        console.print(f"  {added.field.spec}: {rows}", soft_wrap=True, markup=False, emoji=False)
    console.print(f"  [success]added[/]    {result.migration}", soft_wrap=True)
    for path in result.changed:
        console.print(f"  [success]updated[/]  {path}", soft_wrap=True)
    console.print("[muted]One merge commit; undo it with `apiforge update --undo`.[/]")
    console.print("\nNext steps:")
    console.print("  uv run alembic upgrade head")
    console.print("  uv run pytest")
