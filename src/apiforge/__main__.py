"""Entry point of the `apiforge` console script and of `python -m apiforge`."""

from __future__ import annotations

import os
import sys

# The width below which Typer wraps the top-level help differently from TOP_LEVEL_HELP.
_HELP_COLUMNS = 80


def _fast_answer(argv: list[str], program: str) -> str | None:
    """What `apiforge --version` and `apiforge --help` print, when the entry point can say it
    without importing the CLI (Typer and every command); None otherwise."""
    if argv == ["--version"]:
        from apiforge import __version__

        return f"apiforge {__version__}\n"
    if argv in (["--help"], ["-h"]) and program == "apiforge":
        try:
            columns = int(os.environ.get("COLUMNS") or os.get_terminal_size().columns)
        except (OSError, ValueError):
            columns = _HELP_COLUMNS  # not a terminal: Typer does not wrap to one either
        if columns >= _HELP_COLUMNS:
            from apiforge._help import TOP_LEVEL_HELP

            return TOP_LEVEL_HELP
    return None


def main() -> None:
    # os.path, not pathlib: importing pathlib would cost this fast path a few milliseconds.
    program = os.path.basename(sys.argv[0])  # noqa: PTH119
    answer = _fast_answer(sys.argv[1:], program)
    if answer is not None:
        sys.stdout.write(answer)
        return
    from apiforge.cli import app

    app()


if __name__ == "__main__":
    main()
