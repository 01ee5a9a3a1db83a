"""The uv lock files a template ships, one per set of dependencies: database, worker,
observability and Python, kept together in one file.

Every generated project starts with a `uv.lock`, so `uv sync --locked` installs
exactly the versions the template's tests proved green. The variants for one Python
share most of their packages, so `template/_locks/py3.12.lock.jinja` holds each
distinct section of their locks once, wrapped in a condition on `lock`, the variant's
name (`postgresql-taskiq-observability-py3.12`), which `template/uv.lock.jinja` sets
before including it. Rendered for a variant, it gives that variant's lock byte for byte.
(One file per Python keeps what `apiforge new` compiles small.)

After changing the template's dependencies, lock them again
(``scripts/lock_template.py``), which locks each variant with uv and merges the results.
"""

from __future__ import annotations

import itertools
import re
import subprocess
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from apiforge.errors import UserError
from apiforge.gates import find_python, project_env
from apiforge.project import Installed
from apiforge.tools import find_uv

__all__ = [
    "PLACEHOLDER_NAME",
    "lock_name",
    "lock_variant",
    "merge_locks",
    "read_locks",
    "render_lock",
]

PLACEHOLDER_NAME = "apiforge-lock-placeholder"
LOCKS_FOLDER = Path("template") / "_locks"
"""Where the merged locks are, relative to the folder holding `copier.yml`."""

# The project's own name in a lock, as the template writes it.
_PROJECT_NAME = 'name = "{{ project_slug }}"'
_VARIANTS_LINE = re.compile(r"\A\{#- variants: ([^\n]*) -#\}\n")
_SECTION_START = re.compile(r"^\[\[package\]\]$", re.M)


def lock_name(
    database: str, python: str, worker: str = "none", *, observability: bool = False
) -> str:
    """The name of one variant, as `template/uv.lock.jinja` spells it."""
    parts = [database]
    if worker != "none":
        parts.append(worker)
    if observability:
        parts.append("observability")
    return f"{'-'.join(parts)}-py{python}"


def _sections(text: str) -> list[str]:
    """A lock cut before each `[[package]]`: the header, then one piece per package."""
    starts = [0, *(match.start() for match in _SECTION_START.finditer(text))]
    ends = [*starts[1:], len(text)]
    return [text[start:end] for start, end in zip(starts, ends, strict=True) if end > start]


def _merged_order(sequences: Iterable[list[str]]) -> list[str]:
    """Every distinct piece once, in an order that keeps each sequence's own order.

    A topological order of "comes right after", ties broken by where a piece is first
    seen, so pieces shared by every variant keep their places.
    """
    first_seen: dict[str, int] = {}
    followers: dict[str, set[str]] = {}
    waiting: dict[str, int] = {}
    for sequence in sequences:
        for piece in sequence:
            first_seen.setdefault(piece, len(first_seen))
            followers.setdefault(piece, set())
            waiting.setdefault(piece, 0)
        for before, after in itertools.pairwise(sequence):
            if after not in followers[before]:
                followers[before].add(after)
                waiting[after] += 1
    ready = sorted(
        (piece for piece, count in waiting.items() if count == 0), key=first_seen.__getitem__
    )
    order: list[str] = []
    while ready:
        piece = ready.pop(0)
        order.append(piece)
        for after in followers[piece]:
            waiting[after] -= 1
            if waiting[after] == 0:
                ready.append(after)
        ready.sort(key=first_seen.__getitem__)
    if len(order) != len(first_seen):
        raise ValueError("the locks order their packages in contradicting ways")
    return order


def _quoted(names: Iterable[str]) -> str:
    return ", ".join(f'"{name}"' for name in sorted(names))


def merge_locks(locks: Mapping[str, str]) -> str:
    """The template holding every lock of *locks* (variant name to lock text)."""
    for name in locks:
        if not re.fullmatch(r"[\w.-]+", name):
            raise ValueError(f"not a variant name: {name!r}")
    pieces = {name: _sections(text) for name, text in sorted(locks.items())}
    owners: dict[str, set[str]] = {}
    for name, sections in pieces.items():
        for piece in sections:
            owners.setdefault(piece, set()).add(name)
    everyone = set(locks)
    parts = [
        f"{{#- variants: {' '.join(sorted(locks))} -#}}\n",
        "{#- Written by scripts/lock_template.py: one section per distinct piece of the\n"
        "    variants' uv.lock files, kept when `lock` names a variant that has it. -#}\n",
    ]
    for piece in _merged_order(pieces.values()):
        holders, text = owners[piece], _verbatim(piece)
        if holders == everyone:
            parts.append(text)
        elif len(holders) <= len(everyone - holders):
            parts.append(f"{{% if lock in [{_quoted(holders)}] %}}{text}{{% endif %}}")
        else:
            others = _quoted(everyone - holders)
            parts.append(f"{{% if lock not in [{others}] %}}{text}{{% endif %}}")
    return "".join(parts)


def _verbatim(piece: str) -> str:
    """*piece* as Jinja that renders it unchanged, the project's name put in.

    Raw blocks also spare Jinja's lexer the braces of every line: the template compiles
    in a fraction of the time, which every `apiforge new` pays.
    """
    if "{% endraw %}" in piece:
        raise ValueError("a lock cannot hold '{% endraw %}'")
    return "{{ project_slug }}".join(
        f"{{% raw %}}{text}{{% endraw %}}" if text else ""
        for text in piece.split("{{ project_slug }}")
    )


def variants_of(merged: str) -> list[str]:
    """The variants a merged file holds."""
    match = _VARIANTS_LINE.match(merged)
    return match.group(1).split() if match else []


def render_lock(merged: str, variant: str, project_slug: str = "{{ project_slug }}") -> str:
    """*variant*'s lock from the merged file, naming the project *project_slug*."""
    from jinja2 import Environment

    if variant not in variants_of(merged):
        raise KeyError(variant)
    environment = Environment(keep_trailing_newline=True, autoescape=False)
    return environment.from_string(merged).render(lock=variant, project_slug=project_slug)


def _python_of(variant: str) -> str:
    return variant.rpartition("-py")[2]


def locks_file(template: Path, python: str) -> Path:
    """The merged locks of the variants for *python*."""
    return template / LOCKS_FOLDER / f"py{python}.lock.jinja"


def read_locks(template: Path) -> dict[str, str]:
    """Every variant's lock kept by *template* (the folder holding `copier.yml`)."""
    locks: dict[str, str] = {}
    for path in sorted((template / LOCKS_FOLDER).glob("py*.lock.jinja")):
        merged = path.read_text(encoding="utf-8")
        locks |= {variant: render_lock(merged, variant) for variant in variants_of(merged)}
    return locks


def write_locks(template: Path, locks: Mapping[str, str]) -> list[Path]:
    """Merge *locks* into one file per Python; return the files."""
    written = []
    for python in sorted({_python_of(variant) for variant in locks}):
        path = locks_file(template, python)
        path.parent.mkdir(parents=True, exist_ok=True)
        mine = {name: text for name, text in locks.items() if _python_of(name) == python}
        path.write_text(merge_locks(mine), encoding="utf-8")
        written.append(path)
    return written


def lock_variant(
    template: Path,
    database: str,
    python: str,
    *,
    worker: str = "none",
    observability: bool = False,
    upgrade: bool = False,
    locks: dict[str, str] | None = None,
) -> str:
    """Lock one variant of the template in *template* (holding `copier.yml` and
    `template/`) with uv, and keep the result in the merged file; return its name.

    uv keeps the versions of the variant's current lock wherever they still fit (a new
    variant starts from the same variant without observability); with *upgrade*, every
    dependency moves to its newest version that fits. Pass *locks* (from `read_locks`)
    to lock several variants in a row: it is updated, and the file written each time.
    """
    from apiforge.update import render_installed

    interpreter = find_python(python)
    if interpreter is None:
        raise UserError(f"Python {python} is needed to lock that variant; install it.")
    name = lock_name(database, python, worker, observability=observability)
    known = read_locks(template) if locks is None else locks
    merged = locks_file(template, python)
    if not merged.is_file():  # uv.lock.jinja includes it, so it must exist to render
        merged.parent.mkdir(parents=True, exist_ok=True)
        merged.write_text(merge_locks({}), encoding="utf-8")
    seed = known.get(name) or known.get(lock_name(database, python, worker))
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / PLACEHOLDER_NAME
        answers = {
            "project_name": PLACEHOLDER_NAME,
            "database": database,
            "python_version": python,
            "worker": worker,
            "observability": observability,
        }
        render_installed(Installed(template, "0.0.0"), project, answers)
        rendered = project / "uv.lock"
        if upgrade or seed is None:
            rendered.unlink(missing_ok=True)
        else:
            rendered.write_text(seed.replace(_PROJECT_NAME, f'name = "{PLACEHOLDER_NAME}"'))
        completed = subprocess.run(
            [find_uv(), "lock", "--quiet"],
            cwd=project,
            env=project_env(python=interpreter),
            capture_output=True,
            text=True,
            check=False,
        )
        if completed.returncode != 0:
            lines = completed.stderr.strip().splitlines() or ["no output"]
            raise UserError(f"uv lock failed for {name}: {lines[-1]}")
        text = (project / "uv.lock").read_text(encoding="utf-8")
    known[name] = text.replace(f'name = "{PLACEHOLDER_NAME}"', _PROJECT_NAME)
    mine = {other: lock for other, lock in known.items() if _python_of(other) == python}
    merged.write_text(merge_locks(mine), encoding="utf-8")
    return name
