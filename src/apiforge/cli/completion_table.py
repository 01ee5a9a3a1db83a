"""The completion table the entry point answers from (src/apiforge/_completion.py).

Typer completes a command's names and options from the command tree; both are fixed
for an installed apiforge (with its bundled template), so they are written down once
and tests hold the stored table equal to this one.
"""

from __future__ import annotations

from pprint import pformat

import typer.main
from typer._click import Command, Context  # Typer's command tree: its own copy of click's
from typer._click.shell_completion import CompletionItem
from typer.core import TyperGroup

from apiforge.cli import app

Items = tuple[tuple[str, str], ...]


def completion_table() -> tuple[dict[str, Items], dict[str, Items]]:
    """The subcommands and the options of every command, by command path ("" for the top),
    as Typer completes them: (name, help) in Typer's order."""
    commands: dict[str, Items] = {}
    options: dict[str, Items] = {}

    def visit(command: Command, path: tuple[str, ...], parent: Context | None) -> None:
        name = path[-1] if path else "apiforge"
        with command.make_context(name, [], parent=parent, resilient_parsing=True) as ctx:
            key = " ".join(path)
            options[key] = _items(command.shell_complete(ctx, "-"))
            if isinstance(command, TyperGroup):
                commands[key] = _items(command.shell_complete(ctx, ""))
                for sub in command.list_commands(ctx):
                    child = command.get_command(ctx, sub)
                    if child is not None and not child.hidden:
                        visit(child, (*path, sub), ctx)

    visit(typer.main.get_command(app), (), None)
    return commands, options


def _items(items: list[CompletionItem]) -> Items:
    return tuple((str(item.value), item.help or "") for item in items)


def completion_table_module() -> str:
    commands, options = completion_table()
    return (
        '"""Command and option names for shell completion, answered by the entry point.\n'
        "\n"
        "Written by scripts/write_completion_table.py from the CLI (with the bundled\n"
        "template's questions); tests hold it equal to what Typer completes.\n"
        '"""\n'
        "\n"
        f"COMMANDS: dict[str, tuple[tuple[str, str], ...]] = {pformat(commands, width=88)}\n"
        "\n"
        f"OPTIONS: dict[str, tuple[tuple[str, str], ...]] = {pformat(options, width=88)}\n"
    )
