"""References between resources (`--field category:ref`) and the list routes' queries:
the specs, the refusals that write nothing, the rendered slices, and whole projects on
both databases."""

from __future__ import annotations

import functools
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from helpers import everything
from typer.testing import CliRunner

from apiforge.add import AddOptions, add_resource
from apiforge.cli import app
from apiforge.errors import UsageError
from apiforge.new import NewOptions, create_project
from apiforge.render import render_template
from apiforge.resources import (
    Field,
    Resource,
    make_resource,
    parse_field,
    parse_fields,
    read_resources,
    slice_paths,
)
from apiforge.template import TemplateSource

runner = CliRunner()

# --- Specs ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ("category:ref", Field("category_id", "ref", index=True, target="category")),
        ("category_id:ref", Field("category_id", "ref", index=True, target="category")),
        (
            "category:ref?",
            Field("category_id", "ref", nullable=True, index=True, target="category"),
        ),
        (
            "category?:ref:set-null",
            Field(
                "category_id",
                "ref",
                nullable=True,
                index=True,
                target="category",
                on_delete="set-null",
            ),
        ),
        (
            "category:ref:cascade",
            Field("category_id", "ref", index=True, target="category", on_delete="cascade"),
        ),
        ("author:ref:user", Field("author_id", "ref", index=True, target="user")),
        (
            "parent:ref:category:optional:restrict",
            Field("parent_id", "ref", nullable=True, index=True, target="category"),
        ),
    ],
)
def test_ref_specs(spec: str, field: Field) -> None:
    parsed = parse_field(spec)
    expected = Field(**{**field.__dict__, "on_delete": field.on_delete or "restrict"})
    assert parsed == expected


@pytest.mark.parametrize(
    "spec",
    ["category:ref", "category:ref?", "category:ref:cascade", "author:ref:user:set-null?"],
)
def test_a_ref_prints_as_its_spec(spec: str) -> None:
    assert parse_field(spec).spec == spec


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("category:ref:set-null", "set-null needs an optional reference: write category:ref?"),
        ("category:ref:unique", "A reference cannot be unique"),
        ("category:ref:cascade:restrict", "gives two on-delete rules"),
        ("category:ref:80", "Only str fields take a length"),
        ("category:ref:brand:shop", "Unknown modifier 'shop'"),
        ("category:ref:Brand", "Unknown modifier 'Brand'"),
        ("owner:ref:user", "use --owned instead of a field"),
        ("id:ref", "'id' is reserved"),
        (f"{'x' * 28}:ref", "longer than 30 characters"),
    ],
)
def test_bad_ref_specs_are_one_line_usage_errors(spec: str, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_field(spec)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)
    assert "[" not in str(caught.value)  # the CLI prints messages as Rich markup


def _category() -> Resource:
    return make_resource("category", parse_fields(["title:str"]), owned=True)


def test_a_ref_refers_to_a_resource_added_before_or_to_user() -> None:
    category = _category()
    product = make_resource(
        "product",
        parse_fields(["category:ref", "author:ref:user?:set-null"]),
        existing=[category],
    )
    assert [field.target for field in product.fields] == ["category", "user"]


@pytest.mark.parametrize(
    ("name", "spec", "message"),
    [
        ("product", "brand:ref", "refers to brand, which the project has no resource of"),
        ("product", "brand:ref", "refer to one of: category, user."),
        ("category_tag", "parent:ref:category_tag", "a resource cannot refer to itself"),
        (
            "purchase_order_line_item",
            "purchase_order_line_ref:ref:category",
            "longer than PostgreSQL's 63 characters",
        ),
    ],
)
def test_refs_to_nothing_known_are_refused(name: str, spec: str, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        make_resource(name, parse_fields([spec]), existing=[_category()])
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_removed_resource_cannot_be_referred_to() -> None:
    from apiforge.resources import Removal

    removed = Resource(**{**_category().__dict__, "removed": Removal("abc123", None)})
    with pytest.raises(UsageError, match="has no resource of"):
        make_resource("product", parse_fields(["category:ref"]), existing=[removed])


def test_a_ref_round_trips_through_its_answer_and_other_fields_record_no_target() -> None:
    category = _category()
    product = make_resource(
        "product",
        parse_fields(["name:str", "category:ref?:set-null"]),
        existing=[category],
        down_revision=category.revision,
    )
    answer = product.as_answer()
    assert answer["fields"][1] | {} == {
        "name": "category_id",
        "type": "ref",
        "length": None,
        "nullable": True,
        "unique": False,
        "index": True,
        "target": "category",
        "on_delete": "set-null",
    }
    assert "target" not in answer["fields"][0]
    assert read_resources({"resources": [category.as_answer(), answer]}) == [category, product]


def test_a_recorded_ref_without_target_or_rule_reads_as_its_name_and_restrict() -> None:
    field = Field.from_answer({"name": "category_id", "type": "ref", "index": True})
    assert (field.target, field.on_delete) == ("category", "restrict")


# --- The rendered slices ---------------------------------------------------------------


@functools.cache
def _resources() -> list[Resource]:
    """A chain of references: owned and shared targets, user, every rule, long names."""
    made: list[Resource] = []

    def add(name: str, specs: list[str], *, owned: bool = False) -> None:
        down = made[-1].revision if made else "0003"
        made.append(
            make_resource(name, parse_fields(specs), owned=owned, existing=made, down_revision=down)
        )

    add("category", ["title:str:unique", "rank:int?"], owned=True)
    add("brand", ["name:str:40:unique", "founded:date?"])
    add(
        "product",
        [
            "name:str",
            "category:ref:cascade",
            "brand:ref?:set-null",
            "author:ref:user",
            "price:decimal",
        ],
        owned=True,
    )
    add("testimonial", ["quote:text"])
    add("review", ["product:ref", "testimonial:ref?", "rating:int", "sort:int", "body:text"])
    add("purchase_order_line_item", ["order_line_ref:ref:review:cascade", "x:int"], owned=True)
    return made


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory, template_dir: Path) -> Path:
    dest = tmp_path_factory.mktemp("rendered") / "shop"
    data: dict[str, Any] = {
        "project_name": "shop",
        "resources": [resource.as_answer() for resource in _resources()],
    }
    render_template(TemplateSource(str(template_dir)), dest, data=data, defaults=True)
    return dest


def _text(rendered: Path, path: str) -> str:
    return (rendered / path).read_text()


def test_a_ref_is_a_column_an_index_and_a_named_foreign_key(rendered: Path) -> None:
    model = _text(rendered, "src/db/models/product.py")
    assert 'ForeignKey("categories.id", ondelete="CASCADE"), index=True' in model
    assert 'ForeignKey("brands.id", ondelete="SET NULL"), index=True' in model
    assert 'ForeignKey("users.id", ondelete="RESTRICT"), index=True' in model
    assert "brand_id: Mapped[uuid.UUID | None]" in model
    (product,) = [item for item in _resources() if item.name == "product"]
    migration = _text(rendered, slice_paths(product)[5])
    assert 'name=op.f("fk_products_category_id_categories")' in migration
    assert 'ondelete="SET NULL"' in migration
    assert 'op.f("ix_products_author_id"), "products", ["author_id"], unique=False' in migration


def test_only_restrict_references_guard_deletes(rendered: Path) -> None:
    """users are referred to with restrict, but through the database alone; categories
    and brands only with cascade and set-null; products and testimonials with restrict."""
    assert "is_referred_to" not in _text(rendered, "src/services/category.py")
    assert "is_referred_to" not in _text(rendered, "src/services/brand.py")
    assert "REFERRED_TO_BY = (Review.product_id,)" in _text(
        rendered, "src/db/repositories/product.py"
    )
    assert "Reviews refer to this product" in _text(rendered, "src/services/product.py")
    assert "Reviews refer to this testimonial" in _text(rendered, "src/services/testimonial.py")


def test_a_shared_resource_referring_to_owned_rows_takes_the_user(rendered: Path) -> None:
    review = _text(rendered, "src/services/review.py")
    assert "def __init__(self, session: AsyncSession, user: User) -> None:" in review
    assert "self.repository.product_exists(value, self.user.id)" in review
    assert "self.repository.testimonial_exists(value)" in review
    assert "ReviewService(session, user)" in _text(rendered, "src/api/routes/reviews.py")
    assert "BrandService(session)" in _text(rendered, "src/api/routes/brands.py")


def test_the_list_query_whitelists_sorts_and_filters(rendered: Path) -> None:
    schema = _text(rendered, "src/schemas/review.py")
    assert '"rating", "-rating"' in schema
    assert '"body"' not in schema.split("ReviewSort = ")[1].split("]")[0]
    assert "product_id: uuid.UUID | None = None" in schema
    assert 'model_config = ConfigDict(extra="forbid")' in schema.split("class ReviewQuery")[1]
    query_fields = schema.split("class ReviewQuery")[1]
    # A field named like a query word keeps its sort but gets no filter.
    assert "    sort: ReviewSort" in query_fields
    assert "    sort: int" not in query_fields
    assert "    body:" not in query_fields


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff is not installed")
def test_the_slices_with_references_are_formatted_and_lint_clean(rendered: Path) -> None:
    paths = ["src/api/routes/__init__.py", "src/db/models/__init__.py"]
    for resource in _resources():
        paths += slice_paths(resource)
    for command in (["ruff", "format", "--check", "--diff"], ["ruff", "check"]):
        result = subprocess.run(
            [*command, *paths], cwd=rendered, capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stdout + result.stderr


# --- Refusals in a project ---------------------------------------------------------------


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return create_project(NewOptions(target=tmp_path_factory.mktemp("fresh") / "shop")).path


@pytest.fixture
def project(fresh: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "shop"
    shutil.copytree(fresh, copy, symlinks=True)
    return copy


@pytest.mark.usefixtures("git_identity")
@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (["category:ref"], "refers to category, which the project has no resource of"),
        (["product:ref"], "a resource cannot refer to itself"),
        (["category:ref:set-null"], "set-null needs an optional reference"),
    ],
)
def test_a_refused_ref_writes_nothing(project: Path, fields: list[str], message: str) -> None:
    before = everything(project)
    args = ["add", "resource", "product", "--path", str(project)]
    for spec in fields:
        args += ["--field", spec]

    result = runner.invoke(app, args)

    assert result.exit_code == 2, result.output
    assert message in " ".join(result.stderr.split())
    assert len(result.stderr.strip().splitlines()) == 1
    assert everything(project) == before


def test_add_field_refuses_a_reference_rather_than_a_column_without_its_key() -> None:
    from apiforge.fields import added_fields

    with pytest.raises(UsageError, match="add field cannot add a reference yet"):
        added_fields([parse_field("brand:ref?")])


def test_help_shows_the_ref_syntax_and_the_rules() -> None:
    result = runner.invoke(app, ["add", "resource", "--help"])
    text = " ".join(result.output.split())
    assert "category:ref" in text
    assert "set-null" in text
    assert "cascade" in text
    assert "?sort=" in text


# --- Whole projects (slow) ------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.usefixtures("git_identity")
@pytest.mark.parametrize(
    "database", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_a_product_of_an_owned_category_passes_every_gate(
    tmp_path: Path, request: pytest.FixtureRequest, database: str
) -> None:
    """The issue's steps: an owned category, then a product that refers to it."""
    from apiforge.gates import find_python, project_env, run_gates

    extra: dict[str, str] = {}
    if database == "postgresql":
        server = request.getfixturevalue("postgres")
        extra["DATABASE_URL"] = server.create_database("shop_refs")
    options = NewOptions(target=tmp_path / "shop", data={"database": database})
    project = create_project(options).path
    env = project_env(extra, python=find_python((project / ".python-version").read_text().strip()))

    add_resource(
        AddOptions(name="category", fields=["title:str:unique"], owned=True, project=project)
    )
    fields = ["name:str", "price:decimal", "category:ref"]
    product = add_resource(AddOptions(name="product", fields=fields, project=project)).resource

    assert product.fields[2].spec == "category:ref"
    results = run_gates(project, env=env)
    failed = [gate for gate in results if not gate.ok]
    assert not failed, "\n\n".join(f"[{gate.name}] {gate.output[-4000:]}" for gate in failed)
    tests = (project / "tests/test_api/test_products.py").read_text()
    for name in (
        "test_create_refuses_a_reference_to_nothing",
        "test_another_users_row_is_as_good_as_missing",
        "test_category_id_keeps_its_category_from_being_deleted",
        "test_list_filters_on_equality",
        "test_list_sorts_both_ways",
        "test_list_breaks_ties_by_id",
        "test_list_refuses_unknown_fields_and_orders",
    ):
        assert f"def {name}(" in tests, name
