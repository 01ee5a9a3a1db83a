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


def _fast_completion(program: str) -> tuple[str, int] | None:
    """What a shell's completion request gets (output, exit status) when it asks for command
    or option names, which the stored table holds; None for anything else (an option's
    value, an argument, quoting), which Typer answers."""
    instruction = os.environ.get("_APIFORGE_COMPLETE")
    if program != "apiforge" or not instruction:
        return None
    shell = instruction.removeprefix("complete_")
    if shell == instruction:
        return None  # `source_bash` and the like: Typer writes the script
    words = _completion_words(shell)
    if words is None:
        return None
    args, incomplete = words
    from apiforge._completion import COMMANDS, OPTIONS

    path = " ".join(args)
    if path not in OPTIONS or "=" in incomplete:
        return None
    if incomplete.startswith("-"):
        table = OPTIONS[path]
    elif path in COMMANDS:
        table = COMMANDS[path]
    else:
        return None  # an argument's value
    items = [(value, help) for value, help in table if value.startswith(incomplete)]
    return _format_completion(shell, items)


def _completion_words(shell: str) -> tuple[list[str], str] | None:
    """The words before the one completed, and that word, as Typer reads them for *shell*;
    None when quoting would make the plain split differ from Typer's."""
    if shell == "bash":
        line = os.environ.get("COMP_WORDS", "")
        if _quoted(line):
            return None
        words = line.split()
        cword = int(os.environ.get("COMP_CWORD", "0"))
        return words[1:cword], words[cword] if cword < len(words) else ""
    line = os.environ.get("_TYPER_COMPLETE_ARGS", "")
    if _quoted(line):
        return None
    words = line.split()[1:]
    if shell in ("powershell", "pwsh"):
        incomplete = os.environ.get("_TYPER_COMPLETE_WORD_TO_COMPLETE", "")
        return (words[:-1] if incomplete else words), incomplete
    if shell in ("zsh", "fish"):
        if words and not line.endswith(" "):
            return words[:-1], words[-1]
        return words, ""
    return None


def _quoted(line: str) -> bool:
    return any(mark in line for mark in "'\"\\")


def _format_completion(shell: str, items: list[tuple[str, str]]) -> tuple[str, int] | None:
    """*items* in the form Typer's completion script for *shell* reads."""
    if shell == "bash":
        return "\n".join(value for value, _ in items) + "\n", 0
    if shell in ("powershell", "pwsh"):
        return "\n".join(f"{value}:::{help or ' '}" for value, help in items) + "\n", 0
    if shell == "fish":
        action = os.environ.get("_TYPER_COMPLETE_FISH_ACTION", "")
        if action == "is-args":
            return "", 0 if items else 1
        if action != "get-args" or not items:
            return "\n", 0
        lines = (f"{value}\t{_spaced(help)}" if help else value for value, help in items)
        return "\n".join(lines) + "\n", 0
    if not items:
        return "_files\n", 0
    listed = "\n".join(
        f'"{_zsh_escape(value)}":"{_zsh_escape(help)}"' if help else f'"{_zsh_escape(value)}"'
        for value, help in items
    )
    return f"_arguments '*: :(({listed}))'\n", 0


def _spaced(text: str) -> str:
    return "".join(" " if char.isspace() else char for char in text)


def _zsh_escape(text: str) -> str:
    for mark, escaped in (('"', '""'), ("'", "''"), ("$", "\\$"), ("`", "\\`"), (":", r"\\:")):
        text = text.replace(mark, escaped)
    return text


def main() -> None:
    # os.path, not pathlib: importing pathlib would cost this fast path a few milliseconds.
    program = os.path.basename(sys.argv[0])  # noqa: PTH119
    answer = _fast_answer(sys.argv[1:], program)
    if answer is not None:
        sys.stdout.write(answer)
        return
    completion = _fast_completion(program)
    if completion is not None:
        output, status = completion
        sys.stdout.write(output)
        sys.exit(status)
    from apiforge.cli import app

    app()


if __name__ == "__main__":
    main()
