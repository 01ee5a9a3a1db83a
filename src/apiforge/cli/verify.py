"""`apiforge verify`: options in, one call to the core, a live table out."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from apiforge.cli.console import out, wide_out

if TYPE_CHECKING:
    from rich.table import Table

    from apiforge.matrix import Matrix
    from apiforge.verify import CombinationResult, Event, VerifyResult

__all__ = ["verify"]

_FAILURE_LINES = 40
_NOT_RUN = "\N{EN DASH}"
_LOG_WIDTH = 160


def verify(
    template: Annotated[
        str | None,
        typer.Option(
            "--template",
            "-t",
            metavar="SRC",
            help="Template to verify: a folder or a git URL (default: apiforge's own).",
        ),
    ] = None,
    matrix: Annotated[
        str,
        typer.Option(
            "--matrix",
            "-m",
            metavar="default|pairwise|full",
            help="Defaults only, every pair of answers, or every combination.",
        ),
    ] = "default",
    data: Annotated[
        list[str] | None,
        typer.Option(
            "--data",
            "-d",
            metavar="KEY=VALUE",
            help="Answer a question in every combination (repeatable).",
        ),
    ] = None,
    jobs: Annotated[
        int,
        typer.Option("--jobs", "-j", min=1, metavar="N", help="Combinations to verify at once."),
    ] = 1,
    report: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="Write a report: JUnit XML for *.xml, Markdown for *.md, JSON otherwise.",
        ),
    ] = None,
    keep: Annotated[
        bool, typer.Option("--keep", help="Keep the generated projects and print where.")
    ] = False,
    ref: Annotated[
        str | None,
        typer.Option(
            "--ref",
            metavar="REF",
            help="Verify the template at this commit or tag of its repository.",
        ),
    ] = None,
    shard: Annotated[
        str | None,
        typer.Option(
            "--shard",
            metavar="K/N",
            help="Run the K-th of N shares of the matrix (for a CI job matrix).",
        ),
    ] = None,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            help="Fail a combination that cannot run here (Python or PostgreSQL missing).",
        ),
    ] = False,
    list_only: Annotated[
        bool,
        typer.Option(
            "--list", help="List the combinations (of the shard) with their ids; run nothing."
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="With --list: print JSON.")] = False,
    from_ref: Annotated[
        str | None,
        typer.Option(
            "--from",
            metavar="REF",
            help="Generate each combination with this earlier commit or tag of the template, "
            "add a resource, update to the template, then run the gates.",
        ),
    ] = None,
) -> None:
    """Prove that every combination of a template's answers passes its own gates.

    Each combination is rendered into a temporary folder, installed with uv and
    put through its gates (tests, lint, format, types, migrations); PostgreSQL
    combinations get a throwaway server. Exits 0 when none failed, 1 when one did.
    """
    from apiforge.answers import parse_data
    from apiforge.errors import UsageError
    from apiforge.report import write_report
    from apiforge.verify import VerifyOptions, parse_shard, plan
    from apiforge.verify import verify as run_verify

    options = VerifyOptions(
        template=template,
        matrix=matrix,
        data=parse_data(data or []),
        jobs=jobs,
        keep=keep,
        from_ref=from_ref,
        ref=ref,
        shard=parse_shard(shard) if shard is not None else None,
        strict=strict,
    )
    if as_json and not list_only:
        raise UsageError("--json goes with --list (reports: --report FILE.json).")
    if list_only:
        _print_list(plan(options), options.shard, as_json=as_json)
        return
    view = _Progress()
    try:
        result = run_verify(options, on_event=view.handle)
    finally:
        view.stop()
    if report is not None:
        write_report(result, report)
    step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if step_summary:
        write_report(result, Path(step_summary), append=True)

    _print_failures(result)
    _print_summary(result)
    if report is not None:
        out().print(f"Report written to [path]{report}[/].", soft_wrap=True)
    if result.kept is not None:
        out().print(f"Projects kept in [path]{result.kept}[/].", soft_wrap=True)
    elif not result.ok:
        out().print("[muted]Run again with --keep to look into the generated projects.[/]")
    raise typer.Exit(0 if result.ok else 1)


class _Progress:
    """The table of combinations and steps, kept up to date from the core's events.

    At a terminal it is a live table; in a log (CI) it is one line per finished
    combination, then the table.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._live: object | None = None
        self._axes: list[str] = []
        self._steps: tuple[str, ...] = ()
        self._rows: dict[int, _Row] = {}

    def handle(self, event: Event) -> None:
        from apiforge.verify import (
            CombinationFinished,
            CombinationStarted,
            Planned,
            StepFinished,
        )

        with self._lock:
            if isinstance(event, Planned):
                self._plan(event)
                return
            if isinstance(event, CombinationStarted):
                self._rows[event.combination.index].running = True
            elif isinstance(event, StepFinished):
                row = self._rows[event.combination.index]
                row.steps[event.step.name] = (event.step.ok, event.step.seconds)
            elif isinstance(event, CombinationFinished):
                row = self._rows[event.result.combination.index]
                row.running = False
                row.result = event.result
                if self._live is None:
                    out().print(_line(event.result), soft_wrap=True)

    def _plan(self, event: object) -> None:
        from rich.live import Live
        from rich.markup import escape

        from apiforge.verify import Planned

        assert isinstance(event, Planned)
        self._axes = [axis.name for axis in event.matrix.axes]
        self._steps = event.steps
        self._rows = {}
        for item in event.matrix.combinations:
            row = self._rows[item.index] = _Row(item.index, item.label)
            row.answers = {key: escape(_value(value)) for key, value in item.answers.items()}
        pinned = ", ".join(
            f"{key}={escape(_value(value))}" for key, value in event.matrix.pinned.items()
        )
        count = len(event.matrix.combinations)
        out().print(
            f"Verifying [bold]{escape(event.template)}[/]: {event.matrix.kind} matrix, "
            f"{count} combination{'s' if count != 1 else ''}" + (f" ({pinned})" if pinned else ""),
            soft_wrap=True,
        )
        if out().is_terminal:
            live = Live(get_renderable=self.table, console=out(), refresh_per_second=4)
            live.start()
            self._live = live

    def stop(self) -> None:
        from rich.live import Live

        with self._lock:
            live, self._live = self._live, None
        if isinstance(live, Live):
            live.stop()
        elif self._rows:
            # A log does not wrap: print the whole table rather than squeeze it.
            wide_out(_LOG_WIDTH).print(self.table())

    def table(self) -> Table:
        from rich import box
        from rich.table import Table

        with self._lock:
            table = Table(
                box=box.SIMPLE_HEAD,
                pad_edge=False,
                show_edge=False,
                collapse_padding=True,
                padding=(0, 1),
            )
            table.add_column("#", justify="right", style="muted")
            for axis in self._axes:
                table.add_column(axis, no_wrap=True)
            for step in self._steps:
                table.add_column(step, justify="center", no_wrap=True)
            table.add_column("result", justify="right", no_wrap=True)
            for row in self._rows.values():
                cells = [str(row.index)]
                cells += [row.answers.get(axis, _NOT_RUN) for axis in self._axes]
                cells += [row.cell(step, self._steps) for step in self._steps]
                cells.append(row.outcome())
                table.add_row(*cells)
            return table


class _Row:
    def __init__(self, index: int, label: str) -> None:
        self.index = index
        self.label = label
        self.answers: dict[str, str] = {}
        self.steps: dict[str, tuple[bool, float]] = {}
        self.running = False
        self.result: CombinationResult | None = None

    def cell(self, step: str, order: tuple[str, ...]) -> str:
        if step in self.steps:
            ok, seconds = self.steps[step]
            mark = "[success]✓[/]" if ok else "[error]✗[/]"
            return f"{mark} {_seconds(seconds)}"
        if self.running and all(name in self.steps for name in order[: order.index(step)]):
            return "[warning]…[/]"
        if self.result is not None or self.running:
            return f"[muted]{_NOT_RUN}[/]"
        return ""

    def outcome(self) -> str:
        if self.result is None:
            return "[warning]…[/]" if self.running else ""
        status = self.result.status.value
        if status == "passed":
            return f"[success]{_seconds(self.result.seconds)}[/]"
        if status == "failed":
            return "[error]failed[/]"
        return f"[warning]{status}[/]"


def _value(value: object) -> str:
    from apiforge.matrix import format_value

    return format_value(value)


def _seconds(seconds: float) -> str:
    """``0s``, ``42s``, ``3m05s``: short enough for a table cell."""
    whole = round(seconds)
    if whole < 60:
        return f"{whole}s"
    return f"{whole // 60}m{whole % 60:02d}s"


def _line(result: CombinationResult) -> str:
    from rich.markup import escape

    combination = result.combination
    name = f"{combination.index:>2} {escape(combination.label)}"
    status = result.status.value
    if status == "passed":
        return f"[success]✓[/] {name} [muted]({_seconds(result.seconds)})[/]"
    if status == "failed":
        failed = result.failed_step
        return f"[error]✗[/] {name}: {failed.name if failed else '?'} failed"
    return f"[warning]{_NOT_RUN}[/] {name}: {status}, {escape(result.reason)}"


def _print_list(matrix: Matrix, shard: tuple[int, int] | None, *, as_json: bool) -> None:
    """The combinations, one a line, or as JSON with stable ids for a CI job matrix."""
    from apiforge.matrix import format_value

    if as_json:
        import json

        listing = {
            "matrix": matrix.kind,
            "shard": list(shard) if shard is not None else None,
            "combinations": [
                {
                    "id": item.id,
                    "label": item.label,
                    "answers": dict(item.answers),
                    "data": {key: format_value(value) for key, value in item.data.items()},
                    "invalid": item.invalid,
                }
                for item in matrix.combinations
            ],
        }
        typer.echo(json.dumps(listing, indent=2))
        return
    for item in matrix.combinations:
        note = f"  (invalid: {item.invalid})" if item.invalid else ""
        out().print(f"{item.id}  {item.label}{note}", markup=False, soft_wrap=True)


def _print_failures(result: VerifyResult) -> None:
    """Each failed step's output; output seen before is referred to, not repeated."""
    import re

    from rich.markup import escape
    from rich.text import Text

    from apiforge.report import tail

    shown: dict[tuple[str, str], int] = {}
    for outcome in result.results:
        failed = outcome.failed_step
        if failed is None:
            if outcome.status.value == "failed" and outcome.reason:
                label = escape(outcome.combination.label)
                reason = escape(outcome.reason)
                out().print(f"\n[error]✗ {outcome.combination.index} {label}:[/] {reason}")
            continue
        combination = outcome.combination
        text = tail(failed.output, _FAILURE_LINES) or "(no output)"
        # Projects live in folders named after their combination (c01, c02...).
        key = (failed.name, re.sub(r"\bc\d{2,}\b", "c*", text))
        title = f"✗ {combination.index} {escape(combination.label)}: {failed.name} failed"
        out().print()
        if key in shown:
            out().print(f"[error]{title}[/], with the same output as {shown[key]}.", soft_wrap=True)
            continue
        shown[key] = combination.index
        out().rule(f"[error]{title}[/]", align="left")
        out().print(Text(text))


def _print_summary(result: VerifyResult) -> None:
    from rich.markup import escape

    from apiforge.verify import Status

    counts = [f"{result.count(Status.PASSED)} passed", f"{result.count(Status.FAILED)} failed"]
    for status in (Status.SKIPPED, Status.INVALID):
        if result.count(status):
            counts.append(f"{result.count(status)} {status.value}")
    total = len(result.results)
    style = "success" if result.ok else "error"
    out().print()
    out().print(
        f"[{style}]{total} combination{'s' if total != 1 else ''}: {', '.join(counts)}[/] "
        f"[muted]in {_seconds(result.seconds)}[/]",
        soft_wrap=True,
    )
    for outcome in result.results:
        if outcome.status in (Status.SKIPPED, Status.INVALID):
            combination = outcome.combination
            out().print(
                f"[warning]{outcome.status.value}[/] {combination.index} "
                f"{escape(combination.label)}: {escape(outcome.reason)}",
                soft_wrap=True,
            )
    if result.count(Status.SKIPPED):
        out().print(
            "[warning]Skipped combinations were not verified on this machine; "
            "install what they need to verify them.[/]"
        )
