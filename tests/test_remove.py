"""`apiforge remove resource`: the slice's code goes, a migration drops the table, the
answer keeps the resource's migrations; refusals write nothing; undo takes it back. And
a project that adds resources, fields and removes one passes every gate on both
databases, keeping the rows of the other tables."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import everything, git, rows, run
from typer.testing import CliRunner

from apiforge.add import AddOptions, add_resource, migration_head
from apiforge.cli import app
from apiforge.errors import UsageError
from apiforge.fields import AddFieldOptions, add_field, change_path
from apiforge.migrations import read_migrations
from apiforge.new import NewOptions, create_project
from apiforge.project import Installed
from apiforge.remove import RemoveOptions, RemoveResult, drop_path, references_to, remove_resource
from apiforge.resources import read_resources, slice_paths
from apiforge.update import UpdateOptions, undo_update, update_project

pytestmark = pytest.mark.usefixtures("git_identity")

runner = CliRunner()


@pytest.fixture(scope="module")
def with_two(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project with an owned category and a product with an added field."""
    root = create_project(NewOptions(target=tmp_path_factory.mktemp("remove") / "shop")).path
    add_resource(AddOptions(name="category", fields=["title:str:unique"], owned=True, project=root))
    add_resource(AddOptions(name="product", fields=["name:str", "price:decimal"], project=root))
    add_field(AddFieldOptions(resource="product", fields=["stock:int:index"], project=root))
    return root


@pytest.fixture
def project(with_two: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "shop"
    shutil.copytree(with_two, copy, symlinks=True)
    return copy


def remove(project: Path, name: str) -> RemoveResult:
    return remove_resource(RemoveOptions(name=name, project=project))


def files(project: Path) -> dict[str, bytes]:
    """Every file of the project's work tree (its .git left out)."""
    return {
        path: data for path, data in everything(project).items() if not path.startswith(".git/")
    }


def recorded(project: Path) -> list[dict[str, Any]]:
    answers: dict[str, Any] = yaml.safe_load((project / ".copier-answers.yml").read_text())
    return list(answers["resources"])


# --- References ------------------------------------------------------------------------


def _record(name: str, fields: list[dict[str, Any]], **more: Any) -> dict[str, Any]:
    return {"name": name, "plural": f"{name}s", "fields": fields, **more}


def test_references_are_found_in_the_recorded_fields() -> None:
    recorded = [
        _record("category", [{"name": "title", "type": "str"}]),
        _record("product", [{"name": "category", "type": "ref"}]),
        _record("review", [{"name": "about", "type": "ref", "target": "product"}]),
        _record("old", [{"name": "category", "type": "ref"}], removed={"revision": "x"}),
        _record("note", [{"name": "category", "type": "str"}]),
    ]
    assert references_to(recorded, "category") == ["product.category"]
    assert references_to(recorded, "product") == ["review.about"]
    assert references_to(recorded, "review") == []
    assert references_to(recorded, "note") == []


def test_a_referenced_resource_is_refused_and_nothing_is_written(project: Path) -> None:
    answers_file = project / ".copier-answers.yml"
    answers: dict[str, Any] = yaml.safe_load(answers_file.read_text())
    answers["resources"][1]["fields"].append(
        {"name": "category", "type": "ref", "target": "category", "nullable": False}
    )
    answers_file.write_text(yaml.safe_dump(answers, sort_keys=False))
    git(project, "commit", "--quiet", "--all", "-m", "A product refers to its category")
    before = everything(project)

    result = runner.invoke(app, ["remove", "resource", "category", "--path", str(project)])

    assert result.exit_code == 2, result.output
    message = " ".join(result.stderr.split())
    assert "product.category still references category; remove those fields" in message
    assert len(result.stderr.strip().splitlines()) == 1
    assert everything(project) == before


# --- Removing --------------------------------------------------------------------------


def test_removing_drops_the_code_and_adds_a_migration_that_drops_the_table(
    project: Path,
) -> None:
    head = migration_head(project)
    (_category, product) = read_resources({"resources": recorded(project)})
    kept_migrations = [slice_paths(product)[5], change_path(product.changes[0])]

    result = remove(project, "product")

    removal = result.resource.removed
    assert removal is not None
    assert removal.down_revision == head
    assert migration_head(project) == removal.revision
    assert result.migration == drop_path(result.resource)
    code = [path for path in slice_paths(product) if not path.startswith("alembic/")]
    assert sorted(result.removed) == sorted(code)
    assert not any((project / path).exists() for path in code)
    assert all((project / path).is_file() for path in kept_migrations)
    assert {"src/api/routes/__init__.py", "src/db/models/__init__.py"} <= set(result.changed)
    assert "product" not in (project / "src/api/routes/__init__.py").read_text()
    assert "Product" not in (project / "src/db/models/__init__.py").read_text()
    drop = (project / result.migration).read_text()
    assert '    op.drop_table("products")' in drop
    assert 'sa.Column("stock", sa.Integer(), server_default="0", nullable=False)' in drop
    assert 'op.create_index(op.f("ix_products_stock"), "products", ["stock"], unique=False)' in (
        drop
    )
    assert recorded(project)[1]["removed"] == {
        "revision": removal.revision,
        "down_revision": head,
    }
    assert len(read_migrations(project).heads) == 1
    assert git(project, "status", "--porcelain") == ""
    assert git(project, "log", "-1", "--format=%s").strip() == (
        "Remove the product resource (apiforge remove resource)"
    )
    assert update_project(UpdateOptions(project=project)).up_to_date


def test_undo_takes_the_removal_back(project: Path) -> None:
    before = files(project)
    result = remove(project, "category")

    undo_update(project)

    assert not (project / result.migration).exists()
    assert files(project) == before
    assert all(item.removed is None for item in read_resources({"resources": recorded(project)}))


def test_a_removed_name_can_be_added_again_as_a_new_table(project: Path) -> None:
    old = remove(project, "product").resource
    assert old.removed is not None

    again = add_resource(AddOptions(name="product", fields=["title:str"], project=project))

    new = again.resource
    assert new.revision != old.revision
    assert new.down_revision == old.removed.revision
    assert [item["name"] for item in recorded(project)] == ["category", "product", "product"]
    assert (project / slice_paths(old)[5]).is_file()
    assert (project / drop_path(old)).is_file()
    assert (project / slice_paths(new)[5]).is_file()
    assert "title: Mapped[str]" in (project / "src/db/models/product.py").read_text()
    assert len(read_migrations(project).heads) == 1
    # Fields go to the new product; the removed one is history.
    grown = add_field(AddFieldOptions(resource="product", fields=["note:text?"], project=project))
    assert grown.resource.revision == new.revision


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("order", "has no resource order (its resources: category, product)"),
        ("Product", "has no resource Product"),
    ],
)
def test_refusals_are_one_line_usage_errors_that_write_nothing(
    project: Path, name: str, message: str
) -> None:
    before = everything(project)
    result = runner.invoke(app, ["remove", "resource", name, "--path", str(project)])
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.stderr.split())
    assert len(result.stderr.strip().splitlines()) == 1
    assert everything(project) == before


def test_a_removed_resource_cannot_be_removed_or_changed_again(project: Path) -> None:
    remove(project, "product")
    before = everything(project)
    with pytest.raises(UsageError, match=r"has no resource product \(its resources: category\)"):
        remove(project, "product")
    with pytest.raises(UsageError, match="has no resource product"):
        add_field(AddFieldOptions(resource="product", fields=["x:int"], project=project))
    assert everything(project) == before


def test_a_dirty_tree_is_refused(project: Path) -> None:
    readme = project / "README.md"
    readme.write_text(readme.read_text() + "draft\n")
    before = everything(project)
    with pytest.raises(UsageError, match="uncommitted changes"):
        remove(project, "product")
    assert everything(project) == before


def test_a_project_behind_the_template_is_told_to_update_first(
    project: Path, newer_template: Callable[[Callable[[Path], None]], Installed]
) -> None:
    newer = newer_template(lambda _template: None)
    before = everything(project)
    with pytest.raises(UsageError, match=r"first, then run apiforge remove resource\.$"):
        remove_resource(RemoveOptions(name="product", project=project, installed=newer))
    with pytest.raises(UsageError, match=r"first, then run apiforge add field\.$"):
        add_field(
            AddFieldOptions(resource="product", fields=["x:int"], project=project, installed=newer)
        )
    assert everything(project) == before


def test_the_cli_lists_what_went_and_what_to_run(project: Path) -> None:
    result = runner.invoke(app, ["remove", "resource", "product", "--path", str(project)])
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())
    assert "Removed the resource product from shop" in output
    assert "removed src/db/models/product.py" in output
    assert "_drop_products.py" in output
    assert "uv run alembic upgrade head" in output


def test_help_has_examples() -> None:
    result = runner.invoke(app, ["remove", "resource", "--help"])
    assert result.exit_code == 0
    assert "apiforge remove resource product" in result.output
    assert "references" in result.output
    assert "resource" in runner.invoke(app, ["remove", "--help"]).output


# --- Whole projects (slow) ------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    "database", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_resources_grow_and_go_with_every_gate_green_and_rows_kept(
    tmp_path: Path, request: pytest.FixtureRequest, database: str
) -> None:

    from apiforge.gates import GATES, find_python, project_env, run_gates

    extra: dict[str, str] = {}
    if database == "postgresql":
        server = request.getfixturevalue("postgres")
        extra["DATABASE_URL"] = server.create_database("shop_changes")
    options = NewOptions(target=tmp_path / "shop", data={"database": database})
    project = create_project(options).path
    env = project_env(extra, python=find_python((project / ".python-version").read_text().strip()))

    def gates(names: set[str]) -> None:
        chosen = [gate for gate in GATES if gate.name in names]
        failed = [gate for gate in run_gates(project, env=env, gates=chosen) if not gate.ok]
        assert not failed, "\n\n".join(f"[{gate.name}] {gate.output[-4000:]}" for gate in failed)

    add_resource(
        AddOptions(name="category", fields=["title:str:unique"], owned=True, project=project)
    )
    add_resource(AddOptions(name="product", fields=["name:str", "price:decimal"], project=project))
    run(project, env, "sync", "--locked", "--quiet")
    run(project, env, "run", "--no-sync", "alembic", "upgrade", "head")
    seeded = rows(project, env, "seed")
    assert {"users", "categories", "products"} <= set(seeded)

    add_field(
        AddFieldOptions(
            resource="product",
            fields=["sku:str:unique?", "stock:int", "featured:bool"],
            project=project,
        )
    )
    run(project, env, "run", "--no-sync", "alembic", "upgrade", "head")
    assert rows(project, env, "dump") == seeded
    # Every gate but the migrations', which go down to base and would drop the rows.
    gates({"tests", "lint", "format", "types"})

    remove(project, "product")
    run(project, env, "run", "--no-sync", "alembic", "upgrade", "head")
    kept = rows(project, env, "dump")
    assert "products" not in kept
    assert kept == {table: keys for table, keys in seeded.items() if table != "products"}
    assert len(read_migrations(project).heads) == 1
    gates({gate.name for gate in GATES})

    # The name again: a new table after the drop, down to base and up again.
    add_resource(AddOptions(name="product", fields=["title:str:unique"], project=project))
    assert len(read_migrations(project).heads) == 1
    gates({"tests", "types", "migrations"})
