"""A project's Alembic migrations as a graph: heads, and the merge revision that joins them.

Template migrations are ordinary Alembic files: a release adds a file whose
``down_revision`` is the template's previous revision. A project that has
migrations of its own (resources, hand-written ones) then has two heads after
the update. apiforge joins them the way Alembic itself does (`alembic merge`):
it writes a merge revision, an empty migration whose ``down_revision`` names
every head. Nothing is rewritten, so the template's files stay byte for byte the
template's (later updates merge them cleanly) and every database that already
ran some of the revisions upgrades in place.

The files are read without importing them (``ast``), so this needs neither the
project's environment nor a database.
"""

from __future__ import annotations

import ast
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from apiforge.errors import UsageError

__all__ = [
    "MIGRATIONS",
    "Migration",
    "MigrationGraph",
    "merge_revision_text",
    "migration_head",
    "new_revision_id",
    "read_migrations",
    "write_merge_revision",
]

MIGRATIONS = Path("alembic") / "versions"
"""Where a generated project keeps its migrations, relative to its root."""


@dataclass(frozen=True)
class Migration:
    revision: str
    down_revisions: tuple[str, ...]
    path: Path


@dataclass(frozen=True)
class MigrationGraph:
    """The migrations of one project."""

    migrations: dict[str, Migration]

    @property
    def heads(self) -> list[str]:
        """The revisions no other revision follows, sorted."""
        parents = {down for item in self.migrations.values() for down in item.down_revisions}
        return sorted(set(self.migrations) - parents)

    @property
    def missing(self) -> list[str]:
        """Revisions named as ``down_revision`` that no file defines."""
        parents = {down for item in self.migrations.values() for down in item.down_revisions}
        return sorted(parents - set(self.migrations))

    def problem(self) -> str | None:
        """Why Alembic could not upgrade this graph to one head, or None."""
        missing = self.missing
        if missing:
            return (
                f"the migrations name {', '.join(missing)} as down_revision, but no file in "
                f"{MIGRATIONS.as_posix()} defines {'it' if len(missing) == 1 else 'them'}"
            )
        heads = self.heads
        if self.migrations and not heads:
            return "the migrations have no heads (they form a loop)"
        if len(heads) > 1:
            return f"the migrations have {len(heads)} heads ({', '.join(heads)})"
        return None


def read_migrations(project: Path) -> MigrationGraph:
    """Read every migration of the project at *project*.

    Two files with the same revision id are refused with a message naming both:
    Alembic would silently keep one of them.
    """
    found: dict[str, Migration] = {}
    folder = project / MIGRATIONS
    for path in sorted(folder.glob("*.py")) if folder.is_dir() else []:
        ids = _revision_ids(path)
        if ids is None:
            continue
        revision, downs = ids
        if revision in found:
            raise UsageError(
                f"Two migrations have the revision {revision} ({found[revision].path.name} and "
                f"{path.name}); give yours a new id (its `revision` and the `down_revision` "
                "that names it), then run the command again."
            )
        found[revision] = Migration(revision, downs, path)
    return MigrationGraph(found)


def migration_head(project: Path) -> str | None:
    """The one revision the project's migrations end in; None when there are none.

    Several heads are refused: a new migration could follow only one of them.
    """
    graph = read_migrations(project)
    if not graph.migrations:
        return None
    problem = graph.problem()
    if problem is not None:
        raise UsageError(
            f"In {project.name}, {problem}; join the heads with `uv run alembic merge heads` "
            "(or run `apiforge update`, which does it) and commit, then try again."
        )
    return graph.heads[0]


def _revision_ids(path: Path) -> tuple[str, tuple[str, ...]] | None:
    """``revision`` and the ``down_revision`` ids of one migration file, or None."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (OSError, UnicodeDecodeError, SyntaxError) as exc:
        raise UsageError(f"Cannot read the migration {path.name}: {exc}".splitlines()[0]) from exc
    values: dict[str, object] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id in {"revision", "down_revision"}:
            try:
                values[target.id] = ast.literal_eval(value)
            except ValueError:
                raise UsageError(
                    f"The migration {path.name} sets {target.id} to something other than a "
                    "plain string; apiforge cannot follow it."
                ) from None
    revision = values.get("revision")
    if revision is None:
        return None
    down = values.get("down_revision")
    if down is None:
        downs: tuple[str, ...] = ()
    elif isinstance(down, (tuple, list)):
        downs = tuple(str(item) for item in down)
    else:
        downs = (str(down),)
    return str(revision), downs


def new_revision_id(taken: Iterable[str] = ()) -> str:
    """A fresh revision id: 12 hex digits, as `alembic revision` makes them."""
    used = set(taken)
    while True:
        revision = uuid.uuid4().hex[-12:]
        if revision not in used:
            return revision


def merge_revision_text(revision: str, heads: list[str], reason: str) -> str:
    """The source of a merge revision joining *heads*, formatted as ruff formats it."""
    quoted = [f'"{head}"' for head in heads]
    line = f"down_revision: str | Sequence[str] | None = ({', '.join(quoted)})"
    if len(line) > 100:
        items = "".join(f"    {item},\n" for item in quoted)
        line = f"down_revision: str | Sequence[str] | None = (\n{items})"
    return (
        f'"""Join {len(heads)} migration heads into one.\n'
        "\n"
        f"{reason}\n"
        "\n"
        f"Revision ID: {revision}\n"
        f"Revises: {', '.join(heads)}\n"
        '"""\n'
        "\n"
        "from collections.abc import Sequence\n"
        "\n"
        f'revision: str = "{revision}"\n'
        f"{line}\n"
        "branch_labels: str | Sequence[str] | None = None\n"
        "depends_on: str | Sequence[str] | None = None\n"
        "\n"
        "\n"
        "def upgrade() -> None:\n"
        "    pass\n"
        "\n"
        "\n"
        "def downgrade() -> None:\n"
        "    pass\n"
    )


def write_merge_revision(project: Path, graph: MigrationGraph, reason: str) -> Path:
    """Write a merge revision joining the heads of *graph*; return its path."""
    revision = new_revision_id(graph.migrations)
    path = project / MIGRATIONS / f"{revision}_merge_heads.py"
    path.write_text(merge_revision_text(revision, graph.heads, reason), encoding="utf-8")
    return path
