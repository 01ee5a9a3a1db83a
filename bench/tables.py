"""The figures as lines and tables on the console."""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table

from bench.console import console, database_name, seconds_text
from bench.figures import CONNECTIONS, THREADS, Load, Ratio, Report, Timing, WrkRun


def mark(passed: bool | None) -> str:
    if passed is None:
        return ""
    return "[green]met[/]" if passed else "[red]missed[/]"


def run_summary(run: WrkRun) -> str:
    summary = f"{run.requests_per_s:,.0f} req/s, p50 {run.p50_ms:.1f} ms, p99 {run.p99_ms:.1f} ms"
    if run.server_cpu_ms is not None:
        summary += f", {run.server_cpu_ms:.2f} ms CPU per request"
    return summary


def load_summary(load: Load) -> str:
    summary = (
        f"{load.label}: {load.median('requests_per_s'):,.0f} req/s, "
        f"p50 {load.median('p50_ms'):.1f} ms, p99 {load.median('p99_ms'):.1f} ms"
    )
    if load.server_cpu_ms is not None:
        summary += f", {load.server_cpu_ms:.2f} ms CPU per request"
    if not load.clean:
        summary += " [red](errors: see the JSON)[/]"
    return summary


def timing_table(timings: Sequence[Timing]) -> Table:
    table = Table(title="Timings (median of the runs)")
    table.add_column("Figure")
    table.add_column("Median", justify="right")
    table.add_column("Runs (min-max)")
    table.add_column("Target")
    table.add_column("")
    for timing in timings:
        table.add_row(
            timing.label,
            seconds_text(timing.median),
            f"{len(timing.runs)} ({seconds_text(min(timing.runs))}-"
            f"{seconds_text(max(timing.runs))})",
            timing.target,
            mark(timing.passed),
        )
    return table


def load_table(title: str, loads: Sequence[Load], *, variants: bool) -> Table:
    """The load figures; *variants* lists the investigation's variants instead of endpoints,
    each with its requests/s over the first variant's."""
    table = Table(title=title)
    if variants:
        table.add_column("Variant")
    else:
        table.add_column("Database")
        table.add_column("Endpoint")
    for column in ("req/s", "p50", "p99", "CPU/req"):
        table.add_column(column, justify="right")
    if variants:
        table.add_column("req/s vs first", justify="right")
    table.add_column("")
    for load in loads:
        cpu = load.server_cpu_ms
        figures = [
            f"{load.median('requests_per_s'):,.0f}",
            f"{load.median('p50_ms'):.1f} ms",
            f"{load.median('p99_ms'):.1f} ms",
            "" if cpu is None else f"{cpu:.2f} ms",
        ]
        result = "" if load.clean else "[red]errors[/]"
        if variants:
            first = loads[0].median("requests_per_s")
            share = load.median("requests_per_s") / first if first else 0.0
            table.add_row(load.label, *figures, f"{share:.2f}", result)
        else:
            table.add_row(database_name(load.database), load.label, *figures, result)
    return table


def figure_text(value: float, unit: str) -> str:
    if unit == "s":
        return seconds_text(value)
    return f"{value:,.0f} {unit}" if unit == "req/s" else f"{value:.2f} {unit}"


def ratio_table(ratios: Sequence[Ratio]) -> Table:
    """Each ratio with the two figures it divides, its target and whether it was met."""
    table = Table(title="Ratios (the targets are set in these)")
    table.add_column("Ratio")
    table.add_column("Value", justify="right")
    table.add_column("Target")
    table.add_column("")
    table.add_column("Figures (numerator / denominator)")
    for ratio in ratios:
        table.add_row(
            ratio.label,
            f"{ratio.value:.2f}",
            ratio.target,
            mark(ratio.passed),
            f"{figure_text(ratio.numerator, ratio.unit)} / "
            f"{figure_text(ratio.denominator, ratio.unit)}",
        )
    return table


def print_tables(report: Report) -> None:
    info = report.machine
    console.print(
        f"\n[bold]apiforge {info['apiforge']}[/] ({info['commit']}) on {info['cpu']}, "
        f"{info['cores']} cores, {info['memory_gib']} GiB, {info['os']}, {info['python']}"
    )
    console.print(
        f"Pure-Python loop {info['python_loop_ms']} ms at the start, "
        f"{info.get('python_loop_ms_end')} ms at the end; load average "
        f"{info['load_average']:.2f} at the start, {info.get('load_average_end', 0):.2f} at the end"
    )
    if report.timings:
        console.print(timing_table(report.timings))
    if report.loads:
        title = f"Under load: wrk -t{THREADS} -c{CONNECTIONS}, one uvicorn worker (medians)"
        console.print(load_table(title, report.loads, variants=False))
    if report.ratios:
        console.print(ratio_table(report.ratios))
    if report.investigation:
        title = "GET /api/users/me on PostgreSQL, one change at a time"
        console.print(load_table(title, report.investigation, variants=True))
    for reason in report.skipped:
        console.print(f"[yellow]skipped:[/] {reason}")
    for reason in report.failed:
        console.print(f"[red]failed:[/] {reason}")
