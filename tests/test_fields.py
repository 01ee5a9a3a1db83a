"""`apiforge add field`: new columns for a resource in a migration of their own, the
answer that records them, and the refusals that write nothing. (The gates of projects
with added fields run in test_remove.py and test_lifecycle.py.)"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import everything, git
from typer.testing import CliRunner

from apiforge.add import AddOptions, add_resource, migration_head
from apiforge.cli import app
from apiforge.errors import UsageError
from apiforge.fields import (
    SERVER_DEFAULTS,
    AddFieldOptions,
    AddFieldResult,
    add_field,
    added_fields,
    change_path,
)
from apiforge.new import NewOptions, create_project
from apiforge.project import Installed
from apiforge.resources import (
    FIELD_TYPES,
    AddedField,
    FieldChange,
    parse_field,
    read_resources,
    slice_paths,
)
from apiforge.update import UpdateOptions, undo_update, update_project

pytestmark = pytest.mark.usefixtures("git_identity")

runner = CliRunner()


@pytest.fixture(scope="module")
def with_product(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project with a product resource; tests work on copies."""
    root = create_project(NewOptions(target=tmp_path_factory.mktemp("fields") / "shop")).path
    add_resource(AddOptions(name="product", fields=["name:str:80", "price:decimal"], project=root))
    return root


@pytest.fixture
def project(with_product: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "shop"
    shutil.copytree(with_product, copy, symlinks=True)
    return copy


def add(project: Path, resource: str, fields: list[str]) -> AddFieldResult:
    return add_field(AddFieldOptions(resource=resource, fields=fields, project=project))


def recorded(project: Path) -> list[Any]:
    answers: dict[str, Any] = yaml.safe_load((project / ".copier-answers.yml").read_text())
    return list(answers["resources"])


# --- What existing rows get -------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "default", "nullable"),
    [
        ("sku:str", "", False),
        ("body:text", "", False),
        ("stock:int", "0", False),
        ("weight:float", "0", False),
        ("cost:decimal", "0", False),
        ("featured:bool", "false", False),
        ("launched:date", None, True),
        ("seen_at:datetime", None, True),
        ("code:uuid", None, True),
        ("sku:str?", None, True),
        ("stock:int:index?", None, True),
    ],
)
def test_existing_rows_get_a_server_default_or_null(
    spec: str, default: str | None, nullable: bool
) -> None:
    (added,) = added_fields([parse_field(spec)])
    assert added.server_default == default
    assert added.field.nullable is nullable
    assert added.field.name == parse_field(spec).name


def test_every_type_is_either_defaulted_or_made_optional() -> None:
    assert set(SERVER_DEFAULTS) <= set(FIELD_TYPES)
    for kind in set(FIELD_TYPES) - {"ref"}:  # references are refused (tests/test_refs.py)
        (added,) = added_fields([parse_field(f"x:{kind}")])
        assert (added.server_default is None) == (kind not in SERVER_DEFAULTS)


def test_an_optional_unique_field_becomes_a_unique_index() -> None:
    (added,) = added_fields([parse_field("sku:str:unique?")])
    assert (added.field.unique, added.field.index, added.field.nullable) == (True, True, True)
    assert added.server_default is None


@pytest.mark.parametrize(
    ("spec", "owned", "message"),
    [
        ("sku:str:unique", False, "The required field sku cannot be added as unique"),
        ("sku:str:unique?", True, "cannot be added as unique to an owned resource"),
    ],
)
def test_unique_fields_the_rows_or_sqlite_cannot_take_are_refused(
    spec: str, owned: bool, message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        added_fields([parse_field(spec)], owned=owned)


def test_a_change_round_trips_through_the_answer() -> None:
    from apiforge.resources import make_resource

    base = make_resource("product", [parse_field("name:str")], revision="aaaaaaaaaaaa")
    change = FieldChange(
        revision="bbbbbbbbbbbb",
        down_revision="aaaaaaaaaaaa",
        table="products",
        slug="add_stock_to_products",
        fields=(AddedField(parse_field("stock:int"), "0"),),
    )
    grown = replace(base, changes=(change,))
    answer = grown.as_answer()
    assert answer["changes"][0]["fields"][0]["server_default"] == "0"
    assert read_resources({"resources": [answer]}) == [grown]
    assert grown.revisions == ["aaaaaaaaaaaa", "bbbbbbbbbbbb"]
    # A resource without changes records none, as before.
    assert "changes" not in base.as_answer()
    assert "removed" not in base.as_answer()


# --- Adding fields ---------------------------------------------------------------------


def test_adding_fields_is_one_merge_commit_with_a_new_migration(project: Path) -> None:
    head = migration_head(project)
    (product,) = read_resources({"resources": recorded(project)})
    create = project / slice_paths(product)[5]
    created = create.read_text()

    result = add(project, "product", ["sku:str:32?:index", "stock:int", "launched:date"])

    change = result.change
    assert change.down_revision == head
    assert migration_head(project) == change.revision
    assert result.migration == change_path(change)
    assert change.slug == "add_sku_stock_launched_to_products"
    assert result.made_optional == ["launched"]
    migration = (project / result.migration).read_text()
    assert f'down_revision: str | Sequence[str] | None = "{head}"' in migration
    assert 'op.add_column("products", sa.Column("sku", sa.String(length=32), nullable=True))' in (
        migration
    )
    assert 'sa.Column("stock", sa.Integer(), server_default="0", nullable=False)' in migration
    assert 'sa.Column("launched", sa.Date(), nullable=True)' in migration
    assert 'op.f("ix_products_sku")' in migration
    # The create migration is applied history: it does not change.
    assert create.read_text() == created
    assert [field.name for field in result.resource.fields] == [
        "name",
        "price",
        "sku",
        "stock",
        "launched",
    ]
    model = (project / "src/db/models/product.py").read_text()
    assert "stock: Mapped[int] = mapped_column(Integer())" in model
    assert "launched: Mapped[date | None]" in model
    assert '"stock": 10' in (project / "tests/test_api/test_products.py").read_text()
    assert "stock: int" in (project / "src/schemas/product.py").read_text()
    assert git(project, "status", "--porcelain") == ""
    assert git(project, "log", "-1", "--format=%s").strip() == (
        "Add sku, stock, launched to the product resource (apiforge add field)"
    )
    assert len(git(project, "rev-list", "--parents", "-1", "HEAD").split()) == 3


def test_later_changes_chain_and_survive_updates_and_undo(project: Path) -> None:
    first = add(project, "product", ["stock:int"]).change
    second = add(project, "product", ["a:int", "b:int", "c:int", "d:int"]).change
    assert second.down_revision == first.revision
    assert second.slug == "add_4_fields_to_products"
    added = add_resource(AddOptions(name="tag", fields=["label:str"], project=project))
    assert added.resource.down_revision == second.revision
    (product, _tag) = read_resources({"resources": recorded(project)})
    assert product.changes == (first, second)

    assert update_project(UpdateOptions(project=project)).up_to_date

    undo_update(project)
    (kept,) = read_resources({"resources": recorded(project)})
    assert kept.changes == (first, second)
    assert (project / change_path(second)).is_file()


def test_a_newer_template_renders_the_added_fields_and_leaves_the_migrations_as_applied(
    project: Path, newer_template: Callable[[Callable[[Path], None]], Installed]
) -> None:
    change = add(project, "product", ["stock:int"]).change
    migrations = {
        path.name: path.read_bytes() for path in (project / "alembic/versions").glob("*.py")
    }

    def edit(template: Path) -> None:
        (source,) = (template / "src" / "db" / "models").glob("*yield*")
        text = source.read_text()
        source.write_text(text.replace("\n\nclass ", "\n\n# A resource.\nclass ", 1))

    result = update_project(
        UpdateOptions(project=project, installed=newer_template(edit), check_drift=False)
    )

    assert result.committed
    model = (project / "src/db/models/product.py").read_text()
    assert "# A resource.\nclass Product(" in model
    assert "stock: Mapped[int]" in model
    after = {path.name: path.read_bytes() for path in (project / "alembic/versions").glob("*.py")}
    assert after == migrations
    assert (project / change_path(change)).is_file()


def test_undo_takes_the_fields_back(project: Path) -> None:
    before = recorded(project)
    change = add(project, "product", ["stock:int"]).change
    undo_update(project)
    assert recorded(project) == before
    assert not (project / change_path(change)).exists()
    assert "stock" not in (project / "src/db/models/product.py").read_text()
    assert git(project, "status", "--porcelain") == ""


@pytest.mark.parametrize(
    ("resource", "fields", "message"),
    [
        ("order", ["x:int"], "has no resource order (its resources: product)"),
        ("product", ["price:int"], "The resource product has a field price already."),
        ("product", ["sku:str:unique"], "cannot be added as unique"),
        ("product", ["sku:strr"], "Unknown type 'strr'"),
        ("product", ["id:int"], "'id' is reserved"),
        ("product", [], "at least one field"),
        ("product", ["a:int", "a:str"], "The field a is given twice."),
    ],
)
def test_refusals_are_one_line_usage_errors_that_write_nothing(
    project: Path, resource: str, fields: list[str], message: str
) -> None:
    before = everything(project)
    arguments = ["add", "field", resource, "--path", str(project)]
    for spec in fields:
        arguments += ["-f", spec]
    result = runner.invoke(app, arguments)
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.stderr.split())
    assert len(result.stderr.strip().splitlines()) == 1
    assert everything(project) == before


def test_a_dirty_tree_is_refused(project: Path) -> None:
    readme = project / "README.md"
    readme.write_text(readme.read_text() + "draft\n")
    before = everything(project)
    with pytest.raises(UsageError, match="uncommitted changes"):
        add(project, "product", ["stock:int"])
    assert everything(project) == before


def test_the_cli_says_what_each_field_gives_existing_rows(project: Path) -> None:
    result = runner.invoke(
        app,
        ["add", "field", "product", "-f", "stock:int", "-f", "g:date", "--path", str(project)],
    )
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())
    assert "Added stock, g to the resource product" in output
    assert "stock:int: existing rows get the server default '0'" in output
    assert "g:date?: added as optional (no date fits every row): existing rows are null" in output
    assert "_add_stock_g_to_products.py" in output
    assert "uv run alembic upgrade head" in output


def test_help_has_examples_and_says_what_rows_get() -> None:
    result = runner.invoke(app, ["add", "field", "--help"])
    assert result.exit_code == 0
    assert "apiforge add field product -f sku:str:32?" in result.output
    assert "date, datetime, uuid" in result.output
    assert "field" in runner.invoke(app, ["add", "--help"]).output
