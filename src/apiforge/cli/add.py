"""`apiforge add resource NAME`: options in, one call to the core, Rich output."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from apiforge.cli.console import out
from apiforge.cli.resource_options import ProjectPath, command_group, steps

if TYPE_CHECKING:
    from apiforge.add import AddResult

__all__ = ["app"]

app = command_group("Add to a generated project.")

_STEPS = steps("Rendering the template with the new resource…")


@app.command("resource")
def resource(
    name: Annotated[
        str,
        typer.Argument(
            metavar="NAME",
            show_default=False,
            help="The resource, singular and snake_case: product, order_item.",
        ),
    ],
    field: Annotated[
        list[str] | None,
        typer.Option(
            "--field",
            "-f",
            metavar="SPEC",
            show_default=False,
            help="A field as NAME:TYPE[:LENGTH][:MODIFIER...] (repeatable; see below).",
        ),
    ] = None,
    owned: Annotated[
        bool,
        typer.Option(
            "--owned",
            help="Rows belong to the user who creates them; nobody else can see or change them.",
        ),
    ] = False,
    plural: Annotated[
        str | None,
        typer.Option(
            metavar="PLURAL",
            show_default=False,
            help="The plural, when the English rules get it wrong (default: derived).",
        ),
    ] = None,
    path: ProjectPath = Path(),
) -> None:
    """Add a resource: model, migration, schemas, repository, service, routes and tests.

    Routes under /api/<plural>: list, read, create, partial update and
    delete, all for signed-in users. The list takes limit and offset,
    ?sort=field or ?sort=-field, and ?field=value filters; it answers the
    total too, and 422 for a query field it does not know. The resource is
    recorded in the project's answers, so `apiforge update` keeps it current;
    the change is one merge commit (`apiforge update --undo` takes it back).

    \b
    Field types:
      str        short text, 255 characters unless given: title:str:80
      text       long text (up to 10,000 characters)
      int        whole number (32-bit)
      float      floating-point number
      decimal    exact number, NUMERIC(12, 2) unless given: price:decimal:10:4
      bool       true or false
      date       calendar date
      datetime   date and time with time zone
      uuid       UUID
      ref        a row of a resource added before, or of user: category:ref
    \b
    Modifiers:
      optional   may be null; also a trailing ? on the name or type: note:text?
      unique     no two rows share the value (per owner with --owned)
      index      indexed for lookups
    \b
    References: NAME:ref[:RESOURCE][:RULE], the column NAME_id (indexed, a
    foreign key). RESOURCE defaults to NAME: author:ref:user. An id that
    names no row, or another user's row of an --owned resource, answers 422.
    When the row referred to is deleted:
      restrict   refused with 409 while rows refer to it (the default)
      cascade    the rows that refer to it are deleted too
      set-null   the reference is emptied (optional references: category:ref?)
    \b
    Examples:
      apiforge add resource product -f name:str -f price:decimal -f in_stock:bool
      apiforge add resource note --owned -f title:str:120 -f body:text? -f pinned:bool
      apiforge add resource category -f slug:str:64:unique -f description:text:optional
      apiforge add resource review -f product:ref:cascade -f author:ref:user -f body:text
    """
    from apiforge.add import AddOptions, add_resource

    options = AddOptions(name=name, fields=field or [], project=path, owned=owned, plural=plural)
    with out().status(_STEPS["check"]) as status:
        result = add_resource(options, progress=lambda step: status.update(_STEPS.get(step, step)))
    _report(result)


def _report(result: AddResult) -> None:
    resource = result.resource
    console = out()
    owned = ", owned by users" if resource.owned else ""
    console.print(
        f"[success]Added[/] the resource [bold]{resource.name}[/]{owned} to "
        f"[path]{result.project.name}[/]: {resource.url}",
        soft_wrap=True,
    )
    fields = ", ".join(field.spec for field in resource.fields)
    console.print(f"Fields: {fields}", soft_wrap=True, markup=False)
    for path in result.added:
        console.print(f"  [success]added[/]    {path}", soft_wrap=True)
    for path in result.changed:
        console.print(f"  [success]updated[/]  {path}", soft_wrap=True)
    console.print("[muted]One merge commit; undo it with `apiforge update --undo`.[/]")
    console.print("\nNext steps:")
    try:
        shown = result.project.relative_to(Path.cwd())
    except ValueError:
        shown = result.project
    if str(shown) != ".":
        console.print(f"  cd {shown}", soft_wrap=True)
    console.print("  uv run alembic upgrade head")
    console.print("  uv run pytest")
    console.print(f"  uv run fastapi dev src/main.py   # then {resource.url}", soft_wrap=True)
