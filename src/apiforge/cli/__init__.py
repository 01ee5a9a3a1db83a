"""The `apiforge` command line: thin Typer commands over the core modules."""

from __future__ import annotations

from typing import Annotated

import typer

from apiforge import __version__
from apiforge.cli import add, check, new, update, verify
from apiforge.cli.console import state

__all__ = ["app"]

app = typer.Typer(
    name="apiforge",
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
app.add_typer(add.app, name="add")
