"""`apiforge add resource`: every check before anything is written, the update it runs,
and generated projects with resources passing their own gates on both databases."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import (
    CATEGORY,
    CATEGORY_SERVICE_EDIT,
    CATEGORY_SERVICE_TEST,
    EVERY_TYPE,
    commit,
    copy_template,
    everything,
    git,
)
from typer.testing import CliRunner

from apiforge import update as update_module
from apiforge.add import AddOptions, AddResult, add_resource, migration_head
from apiforge.cli import app
from apiforge.errors import UsageError
from apiforge.new import NewOptions, create_project
from apiforge.project import Installed, NotAProjectError, installed_template
from apiforge.resources import read_resources, slice_paths
from apiforge.update import Outcome, UpdateConflict, UpdateOptions, undo_update, update_project

pytestmark = pytest.mark.usefixtures("git_identity")

runner = CliRunner()


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project as `apiforge new` makes it; tests work on copies."""
    return create_project(NewOptions(target=tmp_path_factory.mktemp("fresh") / "shop")).path


@pytest.fixture
def project(fresh: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "shop"
    shutil.copytree(fresh, copy, symlinks=True)
    return copy


def add(project: Path, name: str, fields: list[str], **options: Any) -> AddResult:
    return add_resource(AddOptions(name=name, fields=fields, project=project, **options))


def answers(project: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((project / ".copier-answers.yml").read_text())
    return loaded


# --- Adding ---------------------------------------------------------------------


def test_a_new_project_records_no_resources_and_lists_no_such_question(fresh: Path) -> None:
    assert answers(fresh)["resources"] == []
    result = runner.invoke(app, ["new", "--help"])
    assert result.exit_code == 0
    assert "resources" not in result.output


def test_new_at_a_terminal_never_asks_for_resources(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every other question answered, an interactive `new` has nothing left to ask: with
    no terminal to ask at, copier would fail if it tried."""
    from apiforge.template import bundled_template_dir, load_questions

    data = {
        question.name: question.default
        for question in load_questions(bundled_template_dir())
        if question.asked and not question.managed
    }
    options = NewOptions(target=tmp_path / "svc", data=data, interactive=True, git=False)
    with Path(os.devnull).open() as nothing:
        monkeypatch.setattr("sys.stdin", nothing)
        assert create_project(options).answers["resources"] == []


def test_adding_a_resource_is_one_merge_commit(project: Path, fresh: Path) -> None:
    result = add(project, "product", ["name:str", "price:decimal", "in_stock:bool"])

    resource = result.resource
    assert sorted(result.added) == sorted(slice_paths(resource))
    assert {".copier-answers.yml", "src/api/routes/__init__.py", "src/db/models/__init__.py"} <= (
        set(result.changed)
    )
    assert resource.down_revision == migration_head(fresh)
    assert read_resources(answers(project)) == [resource]
    assert git(project, "status", "--porcelain") == ""
    assert git(project, "log", "-1", "--format=%s").strip() == (
        "Add the product resource (apiforge add resource)"
    )
    assert len(git(project, "rev-list", "--parents", "-1", "HEAD").split()) == 3
    routes = (project / "src/api/routes/__init__.py").read_text()
    assert "from src.api.routes.products import router as products_router" in routes
    assert (
        "from src.db.models.product import Product"
        in (project / "src/db/models/__init__.py").read_text()
    )


def test_resources_chain_their_migrations_survive_updates_and_undo(project: Path) -> None:
    product = add(project, "product", ["name:str"]).resource
    category = add(project, "category", CATEGORY, owned=True).resource

    assert category.down_revision == product.revision
    assert migration_head(project) == category.revision
    migration = project / slice_paths(category)[5]
    assert f'down_revision: str | Sequence[str] | None = "{product.revision}"' in (
        migration.read_text()
    )
    assert update_project(UpdateOptions(project=project)).up_to_date

    undo_update(project)
    assert read_resources(answers(project)) == [product]
    assert not any((project / path).exists() for path in slice_paths(category))
    assert all((project / path).exists() for path in slice_paths(product))
    assert git(project, "status", "--porcelain") == ""


def test_registries_edited_by_hand(project: Path) -> None:
    """A model added by hand merges with a resource; a router added by hand touches the
    lines the resource's router goes to, so that is a conflict to resolve or undo."""
    models = project / "src/db/models/__init__.py"
    routes = project / "src/api/routes/__init__.py"
    commit(
        project,
        {
            "src/db/models/zone.py": "class Zone: ...\n",
            "src/db/models/__init__.py": models.read_text()
            .replace("import User\n", "import User\nfrom src.db.models.zone import Zone\n")
            .replace('    "User",\n', '    "User",\n    "Zone",\n'),
            "src/api/routes/reports.py": "router = None\n",
            "src/api/routes/__init__.py": routes.read_text().replace(
                "health, users", "health, reports, users"
            )
            + "api_router.include_router(reports.router)\n",
        },
    )
    head = git(project, "rev-parse", "HEAD")

    with pytest.raises(UpdateConflict) as caught:
        add(project, "product", ["name:str"])

    assert caught.value.files == ["src/api/routes/__init__.py"]
    assert "<<<<<<<" not in models.read_text()
    assert '    "Product",\n' in models.read_text()
    assert '    "Zone",\n' in models.read_text()
    undo_update(project)
    assert git(project, "rev-parse", "HEAD") == head
    assert git(project, "status", "--porcelain") == ""
    assert not (project / "src/db/models/product.py").exists()


def test_the_plural_can_be_given(project: Path) -> None:
    resource = add(project, "news", ["headline:str"], plural="news_items").resource

    assert (project / "src/api/routes/news_items.py").is_file()
    assert 'prefix="/news-items"' in (project / "src/api/routes/news_items.py").read_text()
    assert resource.table == "news_items"


# --- Refusals -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "fields", "message"),
    [
        ("Product", ["name:str"], "is not snake_case (did you mean product?)"),
        ("products", ["name:str"], "looks plural"),
        ("import", ["name:str"], "is a Python keyword"),
        ("user", ["name:str"], "is reserved"),
        ("product", [], "at least one field"),
        ("product", ["name:string"], "Unknown type 'string'"),
        ("product", ["name:str:big"], "Unknown modifier 'big'"),
        ("product", ["id:uuid"], "'id' is reserved"),
        ("product", ["name:str", "name:text"], "given twice"),
    ],
)
def test_bad_input_writes_nothing(
    project: Path, name: str, fields: list[str], message: str
) -> None:
    before = everything(project)
    with pytest.raises(UsageError, match=re.escape(message)):
        add(project, name, fields)
    assert everything(project) == before


def test_an_existing_resource_is_refused(project: Path) -> None:
    add(project, "product", ["name:str"])
    before = everything(project)
    with pytest.raises(UsageError, match="has a resource product already"):
        add(project, "product", ["title:str"])
    with pytest.raises(UsageError, match="has a resource product already"):
        add(project, "produce", ["title:str"], plural="products")
    assert everything(project) == before


def test_a_dirty_tree_is_refused(project: Path) -> None:
    """Changes to tracked files are refused; untracked files do not block (see
    test_update.py)."""
    readme = project / "README.md"
    readme.write_text(readme.read_text() + "draft\n")
    before = everything(project)
    with pytest.raises(UsageError, match="uncommitted changes") as caught:
        add(project, "product", ["name:str"])
    assert "commit or stash them, then run apiforge add resource product again" in str(caught.value)
    assert everything(project) == before


def test_a_project_behind_the_template_is_told_to_update_first(
    project: Path, newer_template: Callable[[Callable[[Path], None]], Installed]
) -> None:
    newer = newer_template(lambda _template: None)
    before = everything(project)
    with pytest.raises(UsageError, match=r"run `apiforge update` first"):
        add(project, "product", ["name:str"], installed=newer)
    assert everything(project) == before


def test_a_template_without_resources_is_refused(project: Path, tmp_path: Path) -> None:
    current = installed_template()
    folder = copy_template(current.folder, tmp_path / "plain-template")
    config = (current.folder / "copier.yml").read_text()
    (folder / "copier.yml").write_text(config[: config.index("\nresources:")] + "\n")
    before = everything(project)
    with pytest.raises(UsageError, match="has no resources question"):
        add(project, "product", ["name:str"], installed=Installed(folder, current.version))
    assert everything(project) == before


def test_several_migration_heads_are_refused(project: Path) -> None:
    migration = f'revision = "{{}}"\ndown_revision = "{migration_head(project)}"\n'
    commit(
        project,
        {
            "alembic/versions/0002_left.py": migration.format("0002left"),
            "alembic/versions/0002_right.py": migration.format("0002right"),
        },
    )
    before = everything(project)
    with pytest.raises(UsageError, match=r"2 heads \(0002left, 0002right\).*merge heads"):
        add(project, "product", ["name:str"])
    assert everything(project) == before


def test_a_file_in_the_way_is_refused(project: Path) -> None:
    commit(project, {"src/services/product.py": "# The team's own product service.\n"})
    before = everything(project)
    with pytest.raises(UsageError, match=r"src/services/product\.py already exists"):
        add(project, "product", ["name:str"])
    assert everything(project) == before


def test_a_broken_resources_answer_is_refused(project: Path) -> None:
    answers_file = project / ".copier-answers.yml"
    commit(project, {".copier-answers.yml": answers_file.read_text() + "resources: [1]\n"})
    before = everything(project)
    with pytest.raises(
        NotAProjectError, match=r"resources answer in \.copier-answers\.yml is broken"
    ):
        add(project, "product", ["name:str"])
    assert everything(project) == before


def test_managed_answers_cannot_be_given_to_new_or_update(project: Path, tmp_path: Path) -> None:
    before = everything(project)
    updated = runner.invoke(app, ["update", str(project), "--data", "resources=[]"])
    created = runner.invoke(app, ["new", str(tmp_path / "svc"), "--yes", "-d", "resources=[]"])
    for result in (updated, created):
        assert result.exit_code == 2, result.output
        assert "resources is managed by `apiforge add resource`" in result.stderr
    assert everything(project) == before
    assert not (tmp_path / "svc").exists()


# --- Migration heads -----------------------------------------------------------------


def _migrations(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / "alembic" / "versions" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.mark.parametrize(
    ("files", "head"),
    [
        ({}, None),
        ({"a.py": "revision = 'a'\ndown_revision = None\n"}, "a"),
        (
            {
                "a.py": "revision: str = 'a'\ndown_revision: str | None = None\n",
                "b.py": "revision = 'b'\ndown_revision = 'a'\n",
                "c.py": "revision = 'c'\ndown_revision = 'a'\n",
                "merge.py": "revision = 'm'\ndown_revision = ('b', 'c')\n",
                "helpers.py": "SOMETHING = 1\n",
            },
            "m",
        ),
    ],
)
def test_migration_head(tmp_path: Path, files: dict[str, str], head: str | None) -> None:
    assert migration_head(_migrations(tmp_path, files)) == head


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"a.py": "revision = make_id()\n"}, "something other than a plain string"),
        ({"a.py": "revision = (\n"}, "Cannot read the migration a.py"),
        (
            {"a.py": "revision = 'a'\ndown_revision = 'b'\n", "b.py": "revision = 'b'\n"}
            | {"c.py": "revision = 'b'\n"},
            "Two migrations have the revision b",
        ),
        (
            {"a.py": "revision = 'a'\ndown_revision = 'b'\n"}
            | {"b.py": "revision = 'b'\ndown_revision = 'a'\n"},
            "no heads",
        ),
    ],
)
def test_migrations_apiforge_cannot_follow(
    tmp_path: Path, files: dict[str, str], message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        migration_head(_migrations(tmp_path, files))


# --- The command line ------------------------------------------------------------------


def test_help_documents_the_field_syntax() -> None:
    result = runner.invoke(app, ["add", "resource", "--help"])
    assert result.exit_code == 0
    for text in ("NAME:TYPE[:LENGTH][:MODIFIER...]", "decimal", "datetime", "optional", "unique"):
        assert text in result.output
    assert "--owned" in result.output
    assert "apiforge add resource product -f name:str" in result.output
    listed = runner.invoke(app, ["add", "--help"])
    assert listed.exit_code == 0
    assert "resource" in listed.output


def test_cli_adds_and_says_what_to_run_next(project: Path) -> None:
    fields = ["-f", "title:str:120", "-f", "body:text?", "-f", "due:date:index"]
    result = runner.invoke(
        app, ["add", "resource", "note", *fields, "--owned", "--path", str(project)]
    )
    assert result.exit_code == 0, result.output
    assert "Added the resource note, owned by users" in result.output
    assert "/api/notes" in result.output
    assert "title:str:120, body:text?, due:date:index" in result.output  # no emoji
    assert "src/db/models/note.py" in result.output
    assert "uv run alembic upgrade head" in result.output
    assert "uv run pytest" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["Product", "-f", "name:str"], "is not snake_case (did you mean product?)"),
        (["product"], "at least one field"),
        (["product", "-f", "name:str:big"], "valid modifiers: optional, unique, index"),
        (["product", "-f", "when:datetime", "-f", "body:txt"], "valid types: str, text, int,"),
        (["product", "-f", "name", "--path", "{empty}"], "is not an apiforge project"),
        (["product", "-f", "x[/]:str"], "The field name 'x[/]' is not snake_case"),
        (["p[bold]x", "-f", "name"], "The resource name 'p[bold]x' is not snake_case"),
    ],
)
def test_cli_refusals_are_one_line_usage_errors(
    project: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    arguments = [arg.format(empty=empty) for arg in args]
    if "--path" not in arguments:
        arguments += ["--path", str(project)]
    before = everything(project)
    result = runner.invoke(app, ["add", "resource", *arguments])
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert everything(project) == before


# --- Whole projects (slow) ------------------------------------------------------------


def test_a_newer_template_changes_every_resource_and_keeps_the_teams_edits(
    project: Path, newer_template: Callable[[Callable[[Path], None]], Installed]
) -> None:
    """An owned resource of every field type and a plain one with unique fields; the team
    edits one; then a newer template changes every resource's service. (The gates of such
    a project run in test_lifecycle.py.)"""
    add(project, "product", EVERY_TYPE, owned=True)
    add(project, "category", CATEGORY)
    commit(
        project,
        {
            "src/services/category.py": (project / "src/services/category.py").read_text()
            + CATEGORY_SERVICE_EDIT,
            "tests/test_services/test_category_describe.py": CATEGORY_SERVICE_TEST,
        },
        "Team edits the category service",
    )

    def edit(template: Path) -> None:
        (source,) = (template / "src" / "services").glob("*yield*")
        text = source.read_text()
        source.write_text(text.replace("\nNOT_FOUND = ", "\n# The message of a 404.\nNOT_FOUND = "))

    result = update_project(
        UpdateOptions(project=project, installed=newer_template(edit), check_drift=False)
    )

    assert result.committed
    outcomes = {change.path: change.outcome for change in result.files}
    assert outcomes["src/services/product.py"] == Outcome.UPDATED
    assert outcomes["src/services/category.py"] == Outcome.MERGED
    service = (project / "src/services/category.py").read_text()
    assert "# The message of a 404." in service
    assert "def describe()" in service
    assert (project / "tests/test_services/test_category_describe.py").is_file()


def test_undoing_a_resource_says_which_downgrade_a_migrated_database_needs(
    project: Path,
) -> None:
    head = migration_head(project)
    resource = add(project, "product", ["name:str"]).resource
    before = everything(project)

    plan = update_module.plan_undo(project)
    assert plan.what == "Add the product resource (apiforge add resource)"
    assert plan.removed_migrations == (
        f"alembic/versions/{resource.revision}_create_{resource.table}.py",
    )
    assert plan.downgrade_to == head

    refused = runner.invoke(app, ["update", "--undo", str(project)])
    assert refused.exit_code == 2
    output = " ".join(refused.output.split())
    assert f"uv run alembic downgrade {head}" in output
    assert "apiforge update --undo --yes" in " ".join(refused.stderr.split())
    assert everything(project) == before

    undone = runner.invoke(app, ["update", "--undo", "--yes", str(project)])
    assert undone.exit_code == 0, undone.output
    assert not (project / plan.removed_migrations[0]).exists()


def test_a_second_undo_says_why_it_cannot_step_back_further(project: Path) -> None:
    add(project, "product", ["name:str"])
    add(project, "category", ["title:str"])
    undone = runner.invoke(app, ["update", "--undo", "--yes", str(project)])
    assert "Undoing: Add the category resource" in undone.output
    again = runner.invoke(app, ["update", "--undo", "--yes", str(project)])
    assert again.exit_code == 2
    message = " ".join(again.stderr.split())
    assert "keeps the state before the last update only" in message
    assert "git revert -m 1 COMMIT" in message


def test_undo_after_an_update_that_changed_nothing_asks_before_taking_back_the_earlier_one(
    project: Path,
) -> None:
    add(project, "product", ["name:str"])
    assert update_project(UpdateOptions(project=project)).up_to_date
    before = everything(project)

    refused = runner.invoke(app, ["update", "--undo", str(project)])

    assert refused.exit_code == 2
    output = " ".join(refused.output.split())
    assert "Undoing: Add the product resource" in output
    assert "The last update changed nothing; this undoes the update before it." in output
    assert "undoes an earlier update" in " ".join(refused.stderr.split())
    assert everything(project) == before
    assert runner.invoke(app, ["update", "--undo", "--yes", str(project)]).exit_code == 0
