"""The CLI's two consoles and the one place where errors become exit codes.

Rich is imported on first use, not at start-up, so `apiforge --help` stays fast. Emoji
codes are off: what users type (a field such as ``due:date:index``) prints as typed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import TYPE_CHECKING

import typer

from apiforge.errors import ApiforgeError

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["err_console", "handle_errors", "out", "state", "wide_out"]


class _State:
    verbose = False
    quiet = False


state = _State()


@cache
def _theme() -> object:
    from rich.theme import Theme

    return Theme(
        {
            "success": "bold green",
            "warning": "yellow",
            "error": "bold red",
            "muted": "dim",
            "path": "bold cyan",
        }
    )


def out() -> Console:
    """The console for results (silent under --quiet)."""
    console = _out()
    console.quiet = state.quiet
    return console


@cache
def _out() -> Console:
    from rich.console import Console

    return Console(theme=_theme(), highlight=False, emoji=False)  # type: ignore[arg-type]


def wide_out(width: int) -> Console:
    """A console for results at least *width* wide, for logs that do not wrap."""
    from rich.console import Console

    console = out()
    return Console(
        file=console.file,
        width=max(console.width, width),
        theme=_theme(),  # type: ignore[arg-type]
        highlight=False,
        emoji=False,
        quiet=state.quiet,
        color_system=console.color_system,  # type: ignore[arg-type]
    )


@cache
def err_console() -> Console:
    """The console for errors and warnings (stderr)."""
    from rich.console import Console

    return Console(theme=_theme(), stderr=True, highlight=False, emoji=False)  # type: ignore[arg-type]


@contextmanager
def handle_errors() -> Iterator[None]:
    """Turn apiforge's errors (and Ctrl-C) into one red line and an exit code."""
    try:
        yield
    except ApiforgeError as exc:
        if state.verbose:
            err_console().print_exception()
        from rich.markup import escape

        # The message may quote what the user typed; brackets in it are not markup.
        err_console().print(f"[error]error:[/] {escape(str(exc))}", soft_wrap=True, markup=True)
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        err_console().print("[error]error:[/] interrupted; nothing was changed.", soft_wrap=True)
        raise typer.Exit(130) from None
