"""Where the benchmark prints, and how it writes times and names."""

from __future__ import annotations

import sys

from rich.console import Console

# Wide enough for the tables when the output goes to a file or a CI log.
console = Console(highlight=False, width=None if sys.stdout.isatty() else 120)
errors = Console(stderr=True, highlight=False)


def section(title: str) -> None:
    console.rule(f"[bold]{title}")


def progress(message: str) -> None:
    console.print(f"  {message}")


def seconds_text(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def database_name(database: str) -> str:
    return {"sqlite": "SQLite", "postgresql": "PostgreSQL"}.get(database, database)
