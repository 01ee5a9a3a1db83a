"""The `green` and `suite` parts: from nothing to a green test run, and the generated suite."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path

from bench.commands import repeat, run
from bench.console import database_name, progress, seconds_text, section
from bench.figures import Report, Timing
from bench.plan import Plan
from bench.workspace import Workspace


def create(ws: Workspace, database: str, *options: str) -> Path:
    """Generate a project with default answers (and *database*, and any further *options*
    of `apiforge new`) and install it."""
    project = ws.folder(f"{database}-") / "service"
    run(
        ws.new_command(project, "--database", database, *options),
        cwd=ws.root,
        env=ws.apiforge_env(),
        timeout=120,
    )
    run(["uv", "sync", "--quiet"], cwd=project, env=ws.project_env(), timeout=900)
    return project


def bench_time_to_green(ws: Workspace, plan: Plan, report: Report) -> Path:
    """Time `apiforge new`, `uv sync` and `uv run pytest`; return the last project."""
    section("Time to green (SQLite)")
    progress("warming the uv cache (untimed)")
    warm = create(ws, "sqlite")
    run(["uv", "run", "pytest", "-q"], cwd=warm, env=ws.project_env(), timeout=600)
    shutil.rmtree(warm.parent)

    totals: list[float] = []
    details: list[dict[str, float]] = []
    project = warm
    for _ in range(plan.green_runs):
        project = ws.folder("green") / "service"
        steps = {
            "new": run(
                ws.new_command(project), cwd=ws.root, env=ws.apiforge_env(), timeout=120
            ).seconds,
            "uv_sync": run(["uv", "sync"], cwd=project, env=ws.project_env(), timeout=900).seconds,
            "pytest": run(
                ["uv", "run", "pytest"], cwd=project, env=ws.project_env(), timeout=600
            ).seconds,
        }
        totals.append(sum(steps.values()))
        details.append(steps)
        shown = ", ".join(f"{name} {seconds_text(value)}" for name, value in steps.items())
        progress(f"time to green {seconds_text(totals[-1])} ({shown})")
    report.timings.append(
        Timing(
            "time_to_green",
            "time to green: new + uv sync + uv run pytest",
            totals,
            15.0,
            note="warm uv cache; a fresh virtual environment each run",
            details=details,
        )
    )
    return project


def bench_suite(
    ws: Workspace,
    plan: Plan,
    report: Report,
    project: Path,
    database: str,
    extra: Mapping[str, str] | None = None,
) -> None:
    section(f"Generated test suite ({database_name(database)})")
    command = ["uv", "run", "pytest", "-q", "-p", "no:randomly"]
    times = repeat(
        f"uv run pytest ({database_name(database)})",
        command,
        runs=plan.suite_runs,
        cwd=project,
        env=ws.project_env(extra),
    )
    report.timings.append(
        Timing(
            f"suite.{database}",
            f"generated test suite, {database_name(database)}",
            times,
            5.0 if database == "sqlite" else None,
            note="uv run pytest -q -p no:randomly, after one warm-up run",
        )
    )
