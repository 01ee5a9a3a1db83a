"""`apiforge new PATH`: options in, one call to the core, Rich output."""

from __future__ import annotations

import copy
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar

import typer
from typer._click import ClickException
from typer.core import TyperCommand, TyperOption

from apiforge.cli.console import out, state

if TYPE_CHECKING:
    from rich.status import Status
    from typer._click import Context, HelpFormatter

    from apiforge.template import Template

__all__ = ["SHORTCUTS", "NewCommand", "new"]

SHORTCUTS = {
    "name": "project_name",
    "description": "description",
    "python": "python_version",
    "database": "database",
}
"""The shortcut options of `apiforge new` and the answer each one gives."""

_TEMPLATE_ARG = "apiforge.new.template"
_HELP_TEMPLATE = "apiforge.new.help_template"


class NewCommand(TyperCommand):
    """`apiforge new`, whose help describes the template it would render (that of
    --template, or apiforge's own): its questions and choices, and what the shortcut
    options answer, all read from that template's copier.yml."""

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        """Note --template before --help is processed, so the help shows that template."""
        try:
            opts, _rest, _order = self.make_parser(ctx).parse_args(args=list(args))
        except ClickException:
            opts = {}
        ctx.meta[_TEMPLATE_ARG] = opts.get("template")
        return super().parse_args(ctx, args)

    def format_options(self, ctx: Context, formatter: HelpFormatter) -> None:
        template = _help_template(ctx)
        sections: dict[str, list[tuple[str, str]]] = {"Arguments": [], "Options": []}
        for param in self.get_params(ctx):
            if isinstance(param, TyperOption) and param.name in SHORTCUTS:
                param = _shortcut(param, template)
            record = param.get_help_record(ctx)
            if record is not None:
                kind = "Arguments" if param.param_type_name == "argument" else "Options"
                sections[kind].append(record)
        for title, rows in sections.items():
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)

    def format_epilog(self, ctx: Context, formatter: HelpFormatter) -> None:
        from apiforge.docs import question_rows

        location = ctx.meta.get(_TEMPLATE_ARG)
        template = _help_template(ctx)
        rows = question_rows(template.questions) if template is not None else []
        title = f"Questions of {location}" if location else "Questions"
        with formatter.section(f"{title} (answer with --data KEY=VALUE)"):
            if template is None:
                formatter.write_text("A git URL: its questions are asked when it renders.")
            elif rows:
                formatter.write_dl(rows)
            else:
                formatter.write_text("None.")
        super().format_epilog(ctx, formatter)


def _help_template(ctx: Context) -> Template | None:
    """The template `new` would render, read once per help; None for a git URL."""
    if _HELP_TEMPLATE not in ctx.meta:
        from apiforge.template import TemplateSource

        location = ctx.meta.get(_TEMPLATE_ARG)
        source = TemplateSource.from_user(location) if location else TemplateSource.bundled()
        ctx.meta[_HELP_TEMPLATE] = source.load()
    template: Template | None = ctx.meta[_HELP_TEMPLATE]
    return template


def _shortcut(param: TyperOption, template: Template | None) -> TyperOption:
    """A copy of a shortcut option whose help and metavar say what it answers in *template*."""
    name = SHORTCUTS[str(param.name)]
    question = template.question(name) if template is not None else None
    described = copy.copy(param)
    described.metavar = None
    described.help = f"Answers {name}."
    if question is not None:
        described.metavar = question.choice_text or None
        meaning = question.help.rstrip(".")
        if meaning:
            described.help = f"Answers {name}: {meaning}."
    elif template is not None:
        described.help = f"Answers {name}, which this template does not ask."
    return described


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
    # The shortcuts (see SHORTCUTS): their help and metavar come from the template's
    # questions when the help is shown (NewCommand).
    name: Annotated[str | None, typer.Option()] = None,
    description: Annotated[str | None, typer.Option()] = None,
    python: Annotated[str | None, typer.Option()] = None,
    database: Annotated[str | None, typer.Option()] = None,
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
    from apiforge.template import TemplateSource

    answers: dict[str, Any] = {}
    if data_file is not None:
        answers.update(read_data_file(data_file))
    answers.update(parse_data(data or []))
    given = {"name": name, "description": description, "python": python, "database": database}
    answers.update({SHORTCUTS[key]: value for key, value in given.items() if value is not None})
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
    if options.interactive or not out().is_terminal:
        # A spinner shows only at a terminal (Rich's Live and a thread to draw it).
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
    if result.outer_repository is not None:
        out().print(
            f"Committed to the repository {result.outer_repository}, with the template "
            f"branch apiforge/template@{result.path.relative_to(result.outer_repository)}: "
            "push it with your branches so every clone can update the service.",
            soft_wrap=True,
        )
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
