"""`apiforge new PATH`: options in, one call to the core, Rich output."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar

import typer
from typer.core import TyperCommand

from apiforge.cli.console import out, state

if TYPE_CHECKING:
    from rich.status import Status
    from typer._click import Context, HelpFormatter

__all__ = ["NewCommand", "new"]


class NewCommand(TyperCommand):
    """`apiforge new`, whose help lists the template's questions from copier.yml."""

    def format_epilog(self, ctx: Context, formatter: HelpFormatter) -> None:
        from apiforge.template_source import (
            bundled_template_dir,
            describe_default,
            load_questions,
        )

        rows = []
        for question in load_questions(bundled_template_dir()):
            if not question.asked or question.managed:
                continue
            details = [question.help]
            if question.choices:
                details.append(f"choices: {', '.join(question.choices)}")
            details.append(f"default: {describe_default(question)}")
            rows.append((question.name, "; ".join(details)))
        with formatter.section("Questions (answer with --data KEY=VALUE)"):
            formatter.write_dl(rows)
        super().format_epilog(ctx, formatter)


def _interactive(yes: bool) -> bool:
    return not yes and sys.stdin.isatty() and sys.stdout.isatty()


def new(
    path: Annotated[
        Path, typer.Argument(help="Folder to create; its name is the default project name.")
    ],
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Take the defaults for every unanswered question.")
    ] = False,
    data: Annotated[
        list[str] | None,
        typer.Option("--data", "-d", metavar="KEY=VALUE", help="Answer a question (repeatable)."),
    ] = None,
    data_file: Annotated[
        Path | None,
        typer.Option("--data-file", metavar="FILE", help="Read answers from a YAML file."),
    ] = None,
    name: Annotated[
        str | None, typer.Option(help="Project name (default: the folder's name).")
    ] = None,
    description: Annotated[str | None, typer.Option(help="One-line description.")] = None,
    python: Annotated[
        str | None, typer.Option(metavar="3.11|3.12|3.13", help="Lowest supported Python.")
    ] = None,
    database: Annotated[
        str | None, typer.Option(metavar="sqlite|postgresql", help="Database of the service.")
    ] = None,
    template: Annotated[
        str | None,
        typer.Option(
            "--template",
            "-t",
            metavar="SRC",
            help="Use another template (a folder or a git URL, e.g. your fork of apiforge's).",
        ),
    ] = None,
    git: Annotated[bool, typer.Option(help="Initialise git and make a first commit.")] = True,
    install: Annotated[bool, typer.Option(help="Run `uv sync` after generating.")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List the files it would write; write nothing.")
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Print nothing but errors (for scripts).")
    ] = False,
) -> None:
    """Generate a new FastAPI service in PATH.

    At a terminal it asks the template's questions; with --yes, or without a
    terminal, it takes the defaults for whatever --data and the shortcuts leave open.
    """
    from apiforge.answers import parse_data, read_data_file
    from apiforge.new import NewOptions, create_project
    from apiforge.render import TemplateSource

    answers: dict[str, Any] = {}
    if data_file is not None:
        answers.update(read_data_file(data_file))
    answers.update(parse_data(data or []))
    shortcuts = {
        "project_name": name,
        "description": description,
        "python_version": python,
        "database": database,
    }
    answers.update({key: value for key, value in shortcuts.items() if value is not None})
    source = TemplateSource.from_user(template) if template else TemplateSource.bundled()
    options = NewOptions(
        target=path,
        data=answers,
        source=source,
        interactive=_interactive(yes),
        git=git,
        install=install,
        dry_run=dry_run,
    )
    state.quiet = quiet
    steps = _StepPrinter()
    if options.interactive:
        result = create_project(options, progress=steps)
    else:
        with out().status("Rendering the template…") as status:
            steps.status = status
            result = create_project(options, progress=steps)
    steps.finish()

    if dry_run:
        _print_tree(result.path, result.files)
        out().print(f"[muted]Dry run: {len(result.files)} files; nothing was written.[/]")
        return
    _print_summary(result.answers)
    out().print(
        f"[success]Created[/] [path]{result.path}[/] ({len(result.files)} files"
        f"{', git repository' if result.git else ''}{', installed' if result.installed else ''})."
    )
    try:
        shown = result.path.relative_to(Path.cwd())
    except ValueError:
        shown = result.path
    out().print("\nNext steps:")
    out().print(f"  cd {shown}")
    if result.answers.get("database") == "postgresql":
        out().print("  # set DATABASE_URL in .env to your PostgreSQL server")
    out().print("  uv run pytest")
    out().print("  uv run fastapi dev src/main.py")


class _StepPrinter:
    """Shows each step of `new` as it runs, and a check mark with its time when done."""

    LABELS: ClassVar[dict[str, str]] = {
        "render": "Rendered the template",
        "git": "Made the first commit",
        "install": "Installed with uv sync",
    }

    def __init__(self) -> None:
        self.status: Status | None = None
        self.current: tuple[str, float] | None = None

    def __call__(self, step: str) -> None:
        self.finish()
        self.current = (step, time.perf_counter())
        if self.status is not None:
            self.status.update(f"{self.LABELS.get(step, step)}…")

    def finish(self) -> None:
        if self.current is None:
            return
        step, started = self.current
        seconds = time.perf_counter() - started
        out().print(f"[success]✓[/] {self.LABELS.get(step, step)} [muted]{seconds:.1f} s[/]")
        self.current = None


def _print_summary(answers: dict[str, Any]) -> None:
    shown = {key: value for key, value in answers.items() if not isinstance(value, list | dict)}
    width = max((len(key) for key in shown), default=0)
    for key, value in shown.items():
        out().print(f"  [muted]{key:<{width}}[/]  {value}")


def _print_tree(root: Path, files: list[str]) -> None:
    from rich.tree import Tree

    tree = Tree(f"[path]{root}[/]")
    nodes: dict[str, Tree] = {"": tree}
    for file in files:
        parts = file.split("/")
        for depth in range(1, len(parts)):
            key = "/".join(parts[:depth])
            if key not in nodes:
                parent = nodes["/".join(parts[: depth - 1])]
                nodes[key] = parent.add(f"[bold]{parts[depth - 1]}/[/]")
        nodes["/".join(parts[:-1])].add(parts[-1])
    out().print(tree)
