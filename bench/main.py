"""The benchmark's options, its parts in order, and the results file."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import tempfile
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path

from apiforge.pgserver import PostgresUnavailable, throwaway_postgres
from bench.apiforge_cli import bench_cli, bench_new, bench_project_commands, bench_verify
from bench.commands import BenchError
from bench.console import console, errors, progress
from bench.figures import Report
from bench.load import bench_service
from bench.machine import REPO, ensure_wrk, first_line, machine, python_loop_ms
from bench.observability import bench_observability, sqlite_urls
from bench.plan import FULL, LOAD_PARTS, PARTS, QUICK, Plan
from bench.projects import bench_suite, bench_time_to_green, create
from bench.references import FastapiUsersApp
from bench.service import Service
from bench.tables import print_tables
from bench.variants import bench_variants
from bench.workspace import DEFAULT_PYTHON, Workspace

RESULTS = REPO / "bench" / "results"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/run.py",
        description="Benchmark apiforge and a service it generates; print a table, write JSON.",
    )
    parser.add_argument("--quick", action="store_true", help="fewer runs and shorter load")
    parser.add_argument("--skip-load", action="store_true", help="leave out the load figures")
    parser.add_argument("--skip-postgres", action="store_true", help="SQLite figures only")
    parser.add_argument(
        "--investigate",
        action="store_true",
        help="also load GET /api/users/me on PostgreSQL under varied settings",
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=PARTS,
        help="measure only this part (repeatable): cli, new, green (time to green), "
        "suite (generated tests), load, verify (verify --matrix pairwise), "
        "observability (what metrics and traces cost the service)",
    )
    parser.add_argument(
        "--json",
        type=Path,
        metavar="PATH",
        help="where to write the results (default: bench/results/<timestamp>.json)",
    )
    return parser.parse_args(argv)


@contextlib.contextmanager
def attempt(report: Report, what: str) -> Iterator[None]:
    """Run one part of the benchmark; a failure is recorded and the rest still runs."""
    try:
        yield
    except (BenchError, PostgresUnavailable) as exc:
        errors.print(f"[red]{what} failed:[/] {exc}")
        report.failed.append(f"{what}: {str(exc).splitlines()[0]}")


def bench_postgres(
    ws: Workspace, plan: Plan, report: Report, parts: set[str], *, investigate: bool
) -> None:
    with throwaway_postgres() as server:
        project = create(ws, "postgresql")
        if "suite" in parts:
            # The suite creates and uses "suite_test" on the same server.
            suite = {"DATABASE_URL": server.url("suite")}
            bench_suite(ws, plan, report, project, "postgresql", suite)
        if "load" in parts:
            service = Service(ws, project, "postgresql", server.create_database("bench"))
            # fastapi-users for scale: its own environment and its own database.
            fastapi_users = FastapiUsersApp(ws, server.create_database("fastapi_users"))
            bench_service(service, plan, report, fastapi_users)
            if investigate:
                bench_variants(service, plan, report)
        if "observability" in parts:
            with attempt(report, "observability on PostgreSQL"):
                bench_observability(ws, plan, report, "postgresql", project, server.create_database)


def bench_all(
    ws: Workspace, plan: Plan, report: Report, parts: set[str], *, postgres: bool, investigate: bool
) -> None:
    if "cli" in parts:
        with attempt(report, "CLI latency"):
            bench_cli(ws, plan, report)
    if "new" in parts:
        with attempt(report, "apiforge new"):
            bench_new(ws, plan, report)
            bench_project_commands(ws, plan, report)
    if "verify" in parts:
        with attempt(report, "apiforge verify"):
            bench_verify(ws, plan, report)
    sqlite_project: Path | None = None
    if "green" in parts:
        with attempt(report, "time to green"):
            sqlite_project = bench_time_to_green(ws, plan, report)
    # Observability is measured on PostgreSQL, or on SQLite when PostgreSQL is skipped.
    sqlite_observability = "observability" in parts and not postgres
    if sqlite_project is None and (parts & {"suite", "load"} or sqlite_observability):
        with attempt(report, "generating the SQLite project"):
            sqlite_project = create(ws, "sqlite")
    if sqlite_project is not None and "suite" in parts:
        with attempt(report, "generated suite on SQLite"):
            bench_suite(ws, plan, report, sqlite_project, "sqlite")
    if sqlite_project is not None and "load" in parts:
        with attempt(report, "load on SQLite"):
            url = f"sqlite+aiosqlite:///{ws.folder('db') / 'bench.db'}"
            bench_service(Service(ws, sqlite_project, "sqlite", url), plan, report)
    if sqlite_project is not None and sqlite_observability:
        with attempt(report, "observability on SQLite"):
            bench_observability(ws, plan, report, "sqlite", sqlite_project, sqlite_urls(ws))
    if postgres and parts & {"suite", "load", "observability"}:
        with attempt(report, "PostgreSQL figures"):
            bench_postgres(ws, plan, report, parts, investigate=investigate)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    # Ctrl-C and `kill` both stop the run cleanly: services and servers are stopped and the
    # results so far are written (also when a shell started the run with SIGINT ignored).
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    args = parse_args(argv)
    plan = QUICK if args.quick else FULL
    output: Path = args.json or RESULTS / f"{datetime.now().strftime('%Y%m%d-%H%M%S')}.json"
    parts = set(args.only or PARTS)
    report = Report(plan, machine())
    if args.skip_load:
        parts -= LOAD_PARTS
        report.skipped.append("load figures: --skip-load")
    elif parts & LOAD_PARTS and not ensure_wrk():
        parts -= LOAD_PARTS
        report.skipped.append("load figures: wrk is not installed (apt-get install wrk)")
    if args.skip_postgres:
        report.skipped.append("PostgreSQL figures: --skip-postgres")

    complete = False
    try:
        with tempfile.TemporaryDirectory(prefix="apiforge-bench-") as tmp:
            ws = Workspace(Path(tmp))
            if ws.python is None:
                progress(f"Python {DEFAULT_PYTHON} not found; uv picks the interpreter")
            # The interpreter of the generated projects.
            report.machine["service_python"] = ws.python and first_line([ws.python, "--version"])
            bench_all(
                ws,
                plan,
                report,
                parts,
                postgres=not args.skip_postgres,
                investigate=args.investigate,
            )
        complete = True
    except KeyboardInterrupt:
        errors.print("[yellow]Interrupted; the results so far are kept.[/]")
    finally:
        report.machine["python_loop_ms_end"] = python_loop_ms()
        report.machine["load_average_end"] = os.getloadavg()[0]
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps(report.to_json(complete=complete), indent=2) + "\n")
        print_tables(report)
        console.print(f"\nResults: {output}")
    if not complete:
        return 130
    return 1 if report.failed else 0
