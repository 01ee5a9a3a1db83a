"""The `cli` and `new` parts: how fast apiforge answers, and `apiforge new`."""

from __future__ import annotations

import statistics
import sys

from bench.commands import repeat, run
from bench.console import progress, seconds_text, section
from bench.figures import Report, Timing
from bench.plan import Plan
from bench.workspace import Workspace


def bench_cli(ws: Workspace, plan: Plan, report: Report) -> None:
    section("CLI latency")
    env = ws.apiforge_env()
    cwd = ws.folder("cli")
    floor = repeat(
        "python -c pass", [sys.executable, "-c", "pass"], runs=plan.cli_runs, cwd=cwd, env=env
    )
    report.timings.append(
        Timing(
            "cli.python_floor",
            "python -c pass (startup floor)",
            floor,
            note="reference: the same interpreter doing nothing",
        )
    )
    for option, key in (("--help", "cli.help"), ("--version", "cli.version")):
        times = repeat(
            f"apiforge {option}",
            [str(ws.apiforge), option],
            runs=plan.cli_runs,
            cwd=cwd,
            env=env,
        )
        limit = 0.1 if option == "--help" else None
        report.timings.append(Timing(key, f"apiforge {option}", times, limit))
    cold = repeat(
        "apiforge --help, no bytecode cache",
        [str(ws.apiforge), "--help"],
        runs=plan.cli_runs,
        cwd=cwd,
        env=ws.apiforge_env(bytecode=False),
        warmups=0,
    )
    report.timings.append(
        Timing(
            "cli.help_no_bytecode",
            "apiforge --help, no bytecode cache",
            cold,
            note="PYTHONDONTWRITEBYTECODE=1 and an empty cache: every module compiled",
        )
    )


def bench_new(ws: Workspace, plan: Plan, report: Report) -> None:
    section("apiforge new")
    env = ws.apiforge_env()
    run(ws.new_command(ws.folder("new") / "warmup"), cwd=ws.root, env=env, timeout=120)
    times = []
    for _ in range(plan.new_runs):
        target = ws.folder("new") / "service"
        times.append(run(ws.new_command(target), cwd=ws.root, env=env, timeout=120).seconds)
    progress(f"apiforge new --yes --no-git: median {seconds_text(statistics.median(times))}")
    report.timings.append(Timing("new", "apiforge new --yes --no-git", times, 1.0))
