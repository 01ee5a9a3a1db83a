"""The `apiforge` command line: thin Typer commands over the core modules."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from apiforge import __version__
from apiforge.cli import add, check, fields, new, remove, update, verify
from apiforge.cli.console import handle_errors, state

if TYPE_CHECKING:
    from typer._click import Context

__all__ = ["app"]


class _Group(TyperGroup):
    """The command group whose invocation is the CLI's one error boundary: apiforge's
    errors and Ctrl-C from any command become one red line and an exit code there."""

    def invoke(self, ctx: Context) -> Any:
        with handle_errors():
            return super().invoke(ctx)


app = typer.Typer(
    name="apiforge",
    cls=_Group,
    help="Scaffold production-grade FastAPI services and keep them current.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"apiforge {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    verbose: Annotated[
        bool, typer.Option("--verbose", help="Show tracebacks and the output of every step.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Scaffold production-grade FastAPI services and keep them current."""
    state.verbose = verbose
    state.quiet = False


app.command("new", cls=new.NewCommand)(new.new)
app.command("update")(update.update)
app.command("check")(check.check)
app.command("verify")(verify.verify)
add.app.command("field")(fields.field)
app.add_typer(add.app, name="add")
app.add_typer(remove.app, name="remove")
