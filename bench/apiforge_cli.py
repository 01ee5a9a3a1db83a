"""The `cli` and `new` parts: how fast apiforge answers, and `apiforge new`."""

from __future__ import annotations

import json
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


def bench_verify(ws: Workspace, plan: Plan, report: Report) -> None:
    """`apiforge verify --matrix pairwise --jobs 2` on the shipped template, once.

    Every combination renders, installs (uv's cache is warm after the other parts, and
    combinations that share a lock file share an environment) and runs every gate.
    """
    section("apiforge verify --matrix pairwise")
    folder = ws.folder("verify")
    results = folder / "verify.json"
    command = [str(ws.apiforge), "verify", "--matrix", "pairwise", "--jobs", "2"]
    completed = run(
        [*command, "--report", str(results)], cwd=folder, env=ws.apiforge_env(), timeout=3600
    )
    verified = json.loads(results.read_text(encoding="utf-8"))
    combinations = verified["combinations"]
    gate_seconds: dict[str, float] = {}
    for combination in combinations:
        for step in combination["steps"]:
            gate_seconds[step["name"]] = gate_seconds.get(step["name"], 0.0) + step["seconds"]
    counts = verified["counts"]
    slowest = max(combination["seconds"] for combination in combinations)
    progress(
        f"{len(combinations)} combinations ({counts['passed']} passed) in "
        f"{seconds_text(completed.seconds)}; slowest combination {seconds_text(slowest)}; "
        "time per gate, all combinations: "
        + ", ".join(f"{name} {seconds_text(seconds)}" for name, seconds in gate_seconds.items())
    )
    report.timings.append(
        Timing(
            "verify.pairwise",
            "apiforge verify --matrix pairwise --jobs 2",
            [completed.seconds],
            note=f"{len(combinations)} combinations, {counts['passed']} passed; one run",
            details=[{name: round(seconds, 2) for name, seconds in gate_seconds.items()}],
        )
    )
