"""`apiforge update [PROJECT]`: options in, one call to the core, Rich output."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from apiforge.cli.console import out

if TYPE_CHECKING:
    from apiforge.update import UpdateResult

__all__ = ["update"]

_STEPS = {
    "check": "Checking the project…",
    "render": "Rendering the template…",
    "preview": "Cloning the project for the preview…",
    "template": "Committing the template branch…",
    "merge": "Merging…",
    "settle": "Locking dependencies and joining migration heads…",
    "inspect": "Checking the migrations on a scratch database…",
}

_OUTCOMES = {
    "added": ("added", "success"),
    "updated": ("updated", "success"),
    "merged": ("updated, your edits kept", "success"),
    "removed": ("removed by the template", "warning"),
    "conflict": ("conflict", "error"),
    "kept-deleted": ("kept deleted (you deleted it; the template changed it)", "warning"),
    "kept-yours": ("kept yours (the template removed it; you changed it)", "warning"),
    "unchanged": ("unchanged", "muted"),
}


def update(
    project: Annotated[
        Path,
        typer.Argument(
            metavar="PROJECT",
            show_default=False,
            help="The project to update (default: the current folder).",
        ),
    ] = Path(),
    data: Annotated[
        list[str] | None,
        typer.Option("--data", "-d", metavar="KEY=VALUE", help="Change an answer (repeatable)."),
    ] = None,
    preview: Annotated[
        bool, typer.Option("--preview", help="List what would happen to each file; change nothing.")
    ] = False,
    undo: Annotated[
        bool,
        typer.Option(
            "--undo", help="Put the project back exactly as it was before the last update."
        ),
    ] = False,
    adopt: Annotated[
        bool,
        typer.Option(
            "--adopt",
            help="Give a project made with --no-git (committed to git since) the template "
            "branch updates merge from.",
        ),
    ] = False,
    yes: Annotated[
        bool,
        typer.Option(
            "--yes",
            "-y",
            help="With --undo: undo even when it takes away migrations (no question asked).",
        ),
    ] = False,
    drift_check: Annotated[
        bool,
        typer.Option(
            "--drift-check/--no-drift-check",
            help="After merging, run the migrations on a scratch database and `alembic check`.",
        ),
    ] = True,
) -> None:
    """Bring a project up to this apiforge's template, keeping your edits.

    Renders the template with the project's answers onto the branch apiforge/template
    and merges that branch into the current one. Conflicts are ordinary git conflicts;
    `git merge --abort` or `apiforge update --undo` goes back. uv.lock is locked again
    from the merged pyproject.toml, never merged as text; migration heads left by the
    merge are joined with a merge revision; the result is checked (one head, no drift
    between models and migrations, new settings) and a broken one exits 1.
    """
    from apiforge.answers import parse_data
    from apiforge.errors import UsageError
    from apiforge.update import (
        UpdateBroken,
        UpdateConflict,
        UpdateOptions,
        adopt_project,
        update_project,
    )

    if adopt:
        if data or preview or undo:
            raise UsageError("--adopt takes no other options.")
        adopted = adopt_project(project)
        out().print(
            f"[success]Adopted[/] [path]{adopted.project.name}[/]: the branch "
            f"apiforge/template holds template {adopted.version}, recorded as the base of "
            f"your branch (commit {adopted.merge[:12]}); no file changed. "
            "`apiforge update` now merges newer templates.",
            soft_wrap=True,
        )
        return
    if undo:
        if data or preview:
            raise UsageError("--undo takes no other options (but --yes).")
        _undo(project, yes=yes)
        return
    options = UpdateOptions(
        project=project,
        data=parse_data(data or []),
        preview=preview,
        check_drift=drift_check,
    )
    try:
        with out().status(_STEPS["check"]) as status:
            result = update_project(
                options, progress=lambda step: status.update(_STEPS.get(step, step))
            )
    except UpdateConflict as exc:
        _print_files(exc.result)
        _print_findings(exc.result)
        raise
    except UpdateBroken as exc:
        _print_files(exc.result)
        _print_findings(exc.result)
        raise
    _report(result)


def _print_files(result: UpdateResult) -> None:
    from rich.table import Table

    from apiforge.update import Outcome

    changed = [change for change in result.files if change.outcome != Outcome.UNCHANGED]
    unchanged = [change for change in result.files if change.outcome == Outcome.UNCHANGED]
    shown = changed + unchanged if result.preview else changed
    if shown:
        table = Table(box=None, show_header=True, header_style="bold", pad_edge=False)
        table.add_column("file")
        table.add_column("what happens" if result.preview else "what happened")
        for change in shown:
            text, style = _OUTCOMES[change.outcome]
            table.add_row(change.path, f"[{style}]{text}[/]")
        out().print(table)
    if unchanged and not result.preview:
        out().print(f"[muted]{len(unchanged)} other template files unchanged.[/]")


def _undo(project: Path, *, yes: bool) -> None:
    """Say what the undo takes away; ask when it takes migrations away or an update
    older than the last one (which changed nothing); then undo."""
    import sys

    from rich.markup import escape

    from apiforge.errors import UsageError
    from apiforge.update import plan_undo, undo_update

    plan = plan_undo(project)
    out().print(f"Undoing: {escape(plan.what)}", soft_wrap=True)
    if plan.earlier:
        out().print(
            "[warning]The last update changed nothing;[/] this undoes the update before it.",
            soft_wrap=True,
        )
    if plan.removed_migrations:
        files = ", ".join(plan.removed_migrations)
        target = plan.downgrade_to or "the revision before them"
        out().print(
            f"[warning]This takes away the migrations {escape(files)}.[/] A database that "
            f"ran them must first go back: `uv run alembic downgrade {target}`.",
            soft_wrap=True,
        )
    if (plan.earlier or plan.removed_migrations) and not yes:
        if not (sys.stdin.isatty() and sys.stdout.isatty()):
            why = [
                *(["undoes an earlier update"] if plan.earlier else []),
                *(["takes away migrations"] if plan.removed_migrations else []),
            ]
            raise UsageError(
                f"The undo {' and '.join(why)}; check it is what you want (and downgrade the "
                "databases that ran its migrations), then run `apiforge update --undo --yes`."
            )
        if not typer.confirm("Undo now?", default=False):
            raise UsageError("Nothing was undone.")
    undone = undo_update(project)
    out().print(
        f"[success]Restored[/] [path]{undone.project}[/] to commit {undone.head[:12]}, "
        "as it was before the last update.",
        soft_wrap=True,
    )


def _print_findings(result: UpdateResult) -> None:
    """What the update did beyond the merge, what it checked, and what to run next."""
    from rich.markup import escape

    findings = result.findings
    console = out()
    for note in findings.notes:
        console.print(escape(note), soft_wrap=True)
    lock = findings.lock
    if lock is not None and lock.regenerated:
        where = "uv's cache" if lock.source == "cache" else "the registry (not all in uv's cache)"
        console.print(
            f"[success]uv.lock[/] locked again from the merged pyproject.toml, using {where}."
        )
    if findings.merge_revision is not None:
        heads = ", ".join(findings.joined_heads)
        console.print(
            f"[success]Migrations[/]: joined the heads {heads} with {findings.merge_revision}.",
            soft_wrap=True,
        )
    if len(findings.heads) == 1:
        console.print(f"[success]Migrations[/]: one head ({findings.heads[0]}).")
    drift = findings.drift
    if drift is not None and drift.checked and drift.ok:
        console.print(
            "[success]Models and migrations agree[/] (alembic check on a scratch database)."
        )
    elif drift is not None and not drift.checked:
        console.print(f"[warning]Drift not checked:[/] {escape(drift.detail)}.", soft_wrap=True)
    settings = findings.settings
    if settings.added:
        console.print(f"Settings added by the template: {', '.join(settings.added)}.")
    if settings.removed:
        console.print(f"Settings no longer used: {', '.join(settings.removed)}.")
    for problem in findings.problems:
        console.print(f"[error]Broken:[/] {escape(problem)}.", soft_wrap=True)
    if findings.next_steps:
        console.print("Next steps:")
        for step in findings.next_steps:
            console.print(f"  {escape(step)}", soft_wrap=True)


def _undo_hint(result: UpdateResult) -> str:
    try:
        here = result.project.resolve() == Path.cwd().resolve()
    except OSError:
        here = False
    return "apiforge update --undo" + ("" if here else f" {result.project}")


def _report(result: UpdateResult) -> None:
    name = result.project.name
    if result.up_to_date:
        out().print(
            f"[success]{name} is already up to date[/] with template {result.target}; "
            "nothing changed."
        )
        return
    _print_files(result)
    versions = (
        f"template {result.target}"
        if result.current == result.target
        else f"template {result.current} → {result.target}"
    )
    if result.preview:
        note = " Uncommitted changes are not part of it." if result.uncommitted else ""
        conflicts = len(result.conflicts)
        if conflicts:
            out().print(f"[warning]{conflicts} file(s) would have conflicts.[/]")
        _print_findings(result)
        out().print(f"[muted]Preview of {name} ({versions}): nothing was written.{note}[/]")
        return
    _print_findings(result)
    out().print(f"[success]Updated[/] [path]{name}[/] ({versions}) with one merge commit.")
    out().print(f"Undo with: {_undo_hint(result)}", soft_wrap=True)
