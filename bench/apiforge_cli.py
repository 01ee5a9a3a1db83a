"""The `cli` and `new` parts: how fast apiforge answers, and `apiforge new`.

Each is timed interleaved with its floor, the same interpreter doing the least the command
must do (start; import copier), and held to a ratio to it.
"""

from __future__ import annotations

import json
import statistics
import sys

from bench.commands import interleave, repeat, run
from bench.console import progress, seconds_text, section
from bench.figures import Ratio, Report, Timing
from bench.plan import Plan
from bench.workspace import Workspace

# The start-up floors, run by apiforge's own interpreter, and each ratio's upper limit.
PYTHON_PASS = "python -c pass"
IMPORT_COPIER = 'python -c "import copier"'
CLI_RATIO_LIMIT = 5.0
NEW_RATIO_LIMIT = 2.0


def floor_ratio(key: str, label: str, measured: Timing, floor: Timing, limit: float) -> Ratio:
    """*measured*'s median over *floor*'s, which must stay at or under *limit*; printed."""
    ratio = Ratio(key, label, measured.median, floor.median, "s", "<=", limit)
    progress(
        f"{label}: {ratio.value:.1f}x ({seconds_text(measured.median)} / "
        f"{seconds_text(floor.median)}; target <= {limit:g}x, {ratio.verdict})"
    )
    return ratio


def bench_cli(ws: Workspace, plan: Plan, report: Report) -> None:
    """`apiforge --help`, `--version` and a shell's completion request, interleaved with a
    bare interpreter start-up."""
    section("CLI latency")
    env = ws.apiforge_env()
    cwd = ws.folder("cli")
    # What bash's completion script runs when TAB follows `apiforge add r` (through env(1),
    # as the variables differ from the other commands').
    completion = ["_APIFORGE_COMPLETE=complete_bash", "COMP_WORDS=apiforge add r", "COMP_CWORD=2"]
    commands = {
        PYTHON_PASS: lambda: [sys.executable, "-c", "pass"],
        "apiforge --help": lambda: [str(ws.apiforge), "--help"],
        "apiforge --version": lambda: [str(ws.apiforge), "--version"],
        "apiforge completion": lambda: ["env", *completion, str(ws.apiforge)],
    }
    times = interleave(commands, runs=plan.cli_runs, cwd=cwd, env=env)
    floor = Timing(
        "cli.python_floor",
        f"{PYTHON_PASS} (start-up floor)",
        times[PYTHON_PASS],
        note="the same interpreter doing nothing, interleaved with apiforge's runs",
    )
    report.timings.append(floor)
    for option, label in (
        ("help", "apiforge --help"),
        ("version", "apiforge --version"),
        ("completion", "apiforge completion"),
    ):
        timing = Timing(f"cli.{option}", label, times[label])
        report.timings.append(timing)
        report.ratios.append(
            floor_ratio(
                f"ratio.cli.{option}_over_python",
                f"{label} / {PYTHON_PASS}",
                timing,
                floor,
                CLI_RATIO_LIMIT,
            )
        )
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
    """`apiforge new` into new folders, interleaved with an interpreter importing copier."""
    section("apiforge new")
    commands = {
        IMPORT_COPIER: lambda: [sys.executable, "-c", "import copier"],
        "apiforge new --yes --no-git": lambda: ws.new_command(ws.folder("new") / "service"),
    }
    times = interleave(commands, runs=plan.new_runs, cwd=ws.root, env=ws.apiforge_env())
    floor = Timing(
        "new.import_copier",
        f"{IMPORT_COPIER} (floor of apiforge new)",
        times[IMPORT_COPIER],
        note="the same interpreter importing copier, interleaved with apiforge new",
    )
    new = Timing("new", "apiforge new --yes --no-git", times["apiforge new --yes --no-git"])
    report.timings += [floor, new]
    report.ratios.append(
        floor_ratio(
            "ratio.new_over_import_copier",
            f"apiforge new / {IMPORT_COPIER}",
            new,
            floor,
            NEW_RATIO_LIMIT,
        )
    )


def bench_project_commands(ws: Workspace, plan: Plan, report: Report) -> None:
    """`apiforge add resource`, `update` and `check` in a project with git, as a team runs
    them; reported beside `new`, with no target of their own."""
    project = ws.folder("project") / "service"
    env = ws.apiforge_env()
    run([*ws.new_command(project)[:-1], "--no-install"], cwd=ws.root, env=env, timeout=120)
    apiforge = str(ws.apiforge)
    adds = [
        run(
            [apiforge, "add", "resource", f"item{number}", "--field", "title:str"],
            cwd=project,
            env=env,
            timeout=300,
        ).seconds
        for number in range(plan.new_runs)
    ]
    progress(f"apiforge add resource: median {seconds_text(statistics.median(adds))}")
    report.timings.append(
        Timing(
            "add.resource",
            "apiforge add resource (one update, one merge commit)",
            adds,
            note=f"in a project with git and 0 to {plan.new_runs - 1} resources before",
        )
    )
    for key, label, command in (
        ("update.current", "apiforge update, nothing to do", [apiforge, "update"]),
        ("check", "apiforge check", [apiforge, "check"]),
    ):
        times = repeat(label, command, runs=plan.new_runs, cwd=project, env=env)
        report.timings.append(Timing(key, label, times))


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
