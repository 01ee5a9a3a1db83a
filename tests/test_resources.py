"""Resources: field specs, names in every form, and the slice the template renders."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from helpers import EVERY_TYPE

from apiforge.errors import UsageError
from apiforge.render import render_template
from apiforge.resources import (
    _TAKEN_CLASS_NAMES,
    FIELD_TYPES,
    MAX_FIELD_NAME_LENGTH,
    MAX_PLURAL_LENGTH,
    Field,
    Resource,
    class_name_of,
    looks_plural,
    make_resource,
    parse_field,
    parse_fields,
    pluralize,
    read_resources,
    slice_paths,
)
from apiforge.template import TemplateSource

# --- Field specs ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ("title", Field("title", "str", 255)),
        ("title:str", Field("title", "str", 255)),
        ("title:str:80", Field("title", "str", 80)),
        ("title:str?", Field("title", "str", 255, nullable=True)),
        ("title?:str:80", Field("title", "str", 80, nullable=True)),
        ("title:str:optional", Field("title", "str", 255, nullable=True)),
        ("sku:str:32:unique:index", Field("sku", "str", 32, unique=True, index=True)),
        (" body : text ", Field("body", "text")),
        ("price:decimal?", Field("price", "decimal", nullable=True)),
        ("price:decimal", Field("price", "decimal", precision=12, scale=2)),
        ("price:decimal:10:4", Field("price", "decimal", precision=10, scale=4)),
        ("ratio:decimal:5:unique", Field("ratio", "decimal", unique=True, precision=5, scale=2)),
        ("whole:decimal:15:0?", Field("whole", "decimal", nullable=True, precision=15, scale=0)),
        ("quantity:int:index", Field("quantity", "int", index=True)),
        ("rating:float", Field("rating", "float")),
        ("in_stock:bool", Field("in_stock", "bool")),
        ("released:date:optional:index", Field("released", "date", nullable=True, index=True)),
        ("published_at:datetime", Field("published_at", "datetime")),
        ("ref:uuid:unique?", Field("ref", "uuid", nullable=True, unique=True)),
        ("type:str", Field("type", "str", 255)),
        ("line2:str", Field("line2", "str", 255)),
    ],
)
def test_field_specs(spec: str, field: Field) -> None:
    assert parse_field(spec) == field


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("title:string", "Unknown type 'string' in --field title:string; valid types: str, text, "),
        ("title:str:big", "Unknown modifier 'big' in --field title:str:big; valid modifiers: "),
        (":str", "has no name"),
        ("Title:str", "'Title' is not snake_case (did you mean title?)"),
        ("in-stock:bool", "'in-stock' is not snake_case (did you mean in_stock?)"),
        ("2fa:bool", "is not snake_case"),
        ("a__b:int", "is not snake_case"),
        ("class:str", "'class' is a Python keyword"),
        ("id:uuid", "'id' is reserved"),
        ("owner_id:uuid", "'owner_id' is reserved: --owned adds owner_id"),
        ("owner:str", "use --owned instead of a field"),
        ("self:str", "'self' is reserved"),
        ("l:int", "'l' reads like the digit 1"),
        ("created_at:datetime", "'created_at' is reserved"),
        ("metadata:text", "'metadata' is reserved"),
        ("json:text", "'json' is reserved"),
        ("model_name:str", "'model_name' is reserved"),
        ("date:date", "'date' is reserved"),
        ("count:int:10", "Only str fields take a length"),
        ("title:str:0", "between 1 and 10,000"),
        ("title:str:-5", "The length of title must be a positive integer"),
        ("title:str:+5", "must be a positive integer"),
        ("title:str:80:90", "too many numbers"),
        ("count:int:-1", "Only str fields take a length"),
        ("price:decimal:16:2", "a precision from 1 to 15 digits"),
        ("price:decimal:0", "a precision from 1 to 15 digits"),
        ("price:decimal:4:5", "a scale of at most the precision"),
        ("price:decimal:10:-1", "must be whole numbers"),
        ("price:decimal:10:4:2", "too many numbers"),
        ("title:str:10001", "between 1 and 10,000"),
        ("flag:bool:unique", "cannot be unique"),
        ("a" * (MAX_FIELD_NAME_LENGTH + 1), "longer than 30 characters"),
    ],
)
def test_bad_field_specs_are_one_line_usage_errors(spec: str, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_field(spec)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)
    assert "[" not in str(caught.value)  # the CLI prints messages as Rich markup


def test_a_resource_needs_fields_and_each_name_once() -> None:
    with pytest.raises(UsageError, match="at least one field"):
        parse_fields([])
    with pytest.raises(UsageError, match="The field title is given twice"):
        parse_fields(["title:str", "title:text"])


def test_a_field_prints_as_its_spec() -> None:
    specs = ["title:str", "sku:str:32:unique:index?", "body:text?", "ref:uuid:unique"]
    specs += ["price:decimal", "rate:decimal:10:4:index", "whole:decimal:12:0"]
    assert [parse_field(spec).spec for spec in specs] == specs


# --- Names -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("singular", "plural"),
    [
        ("product", "products"),
        ("category", "categories"),
        ("key", "keys"),
        ("day", "days"),
        ("box", "boxes"),
        ("bus", "buses"),
        ("status", "statuses"),
        ("address", "addresses"),
        ("match", "matches"),
        ("wish", "wishes"),
        ("quiz", "quizzes"),
        ("analysis", "analyses"),
        ("hero", "heroes"),
        ("photo", "photos"),
        ("leaf", "leaves"),
        ("roof", "roofs"),
        ("person", "people"),
        ("child", "children"),
        ("news", "news"),
        ("data", "data"),
        ("movie", "movies"),
        ("order_item", "order_items"),
        ("sales_person", "sales_people"),
        ("human", "humans"),
    ],
)
def test_plurals(singular: str, plural: str) -> None:
    assert pluralize(singular) == plural


@pytest.mark.parametrize(
    ("name", "singular"),
    [
        ("products", "product"),
        ("categories", "category"),
        ("movies", "movie"),
        ("boxes", "box"),
        ("statuses", "status"),
        ("warehouses", "warehouse"),
        ("people", "person"),
        ("order_items", "order_item"),
        ("status", None),
        ("address", None),
        ("analysis", None),
        ("news", None),
        ("canvas", None),
        ("product", None),
    ],
)
def test_plural_looking_names(name: str, singular: str | None) -> None:
    assert looks_plural(name) == singular


def test_a_recorded_plural_is_never_computed_again() -> None:
    """Plurals the hand-written rules derived before inflect stay as the answers say."""
    recorded = make_resource("matrix", [Field("size", "int")], plural="matrices").as_answer()
    recorded["name"], recorded["plural"] = "thief", "thieves"
    (resource,) = read_resources({"resources": [recorded]})
    assert resource.plural == "thieves" != pluralize("thief")
    assert resource.as_answer() == recorded
    other = make_resource("tag", [Field("label", "str", 80)], existing=[resource])
    assert other.plural == "tags"


def test_inflect_is_imported_only_to_derive_a_plural() -> None:
    code = (
        "import sys\n"
        "from apiforge.resources import make_resource, parse_field\n"
        "field = parse_field('title:str')\n"
        "make_resource('post', [field], plural='posts')\n"
        "assert 'inflect' not in sys.modules\n"
        "assert make_resource('post', [field]).plural == 'posts'\n"
        "assert 'inflect' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_every_form_of_a_name() -> None:
    resource = make_resource("order_item", [Field("quantity", "int")], revision="abc123def456")
    assert resource.plural == "order_items"
    assert resource.class_name == "OrderItem" == class_name_of("order_item")
    assert resource.table == "order_items"
    assert resource.path == "/order-items"
    assert resource.url == "/api/order-items"
    assert resource.down_revision is None
    assert slice_paths(resource) == [
        "src/db/models/order_item.py",
        "src/db/repositories/order_item.py",
        "src/schemas/order_item.py",
        "src/services/order_item.py",
        "src/api/routes/order_items.py",
        "alembic/versions/abc123def456_create_order_items.py",
        "tests/test_api/test_order_items.py",
        "tests/test_services/test_order_item.py",
    ]


def test_a_plural_can_be_given() -> None:
    resource = make_resource("news", [Field("title", "str", 255)], plural="news_items")
    assert (resource.name, resource.plural, resource.table) == ("news", "news_items", "news_items")
    singular_s = make_resource("lens", [Field("focal", "int")])
    assert singular_s.plural == "lenses"


EXISTING = make_resource("category", [Field("title", "str", 255)])


@pytest.mark.parametrize(
    ("name", "plural", "message"),
    [
        ("", None, "The resource name is empty"),
        ("Product", None, "'Product' is not snake_case (did you mean product?)"),
        ("OrderItem", None, "(did you mean order_item?)"),
        ("order-item", None, "(did you mean order_item?)"),
        ("_product", None, "is not snake_case"),
        ("product_", None, "is not snake_case"),
        ("item10", None, "two or more digits"),
        ("class", None, "'class' is a Python keyword"),
        ("products", None, "looks plural; name it in the singular (product)"),
        ("categories", None, "(category)"),
        ("user", None, "'user' is reserved"),
        ("users", "users", "'users' is reserved"),
        ("member", "users", "The plural 'users' is reserved"),
        ("auth", None, "'auth' is reserved"),
        ("health", None, "'health' is reserved"),
        ("doc", None, "'doc' is reserved"),
        ("refresh_token", None, "is reserved"),
        ("base", None, "is reserved"),
        ("api", None, "is reserved"),
        ("string", None, "'string' is reserved"),
        ("page", None, "'page' is reserved"),
        ("a_b", None, "makes the class name AB"),
        ("a", None, "The plural 'as' is a Python keyword"),
        ("a" * 25, None, "longer than 24 characters"),
        ("item", "x" * (MAX_PLURAL_LENGTH + 1), "The plural 'xxx"),
        ("item", "Items", "The plural 'Items' is not snake_case"),
        ("category", None, "has a resource category already"),
        ("kategory", "categories", "has a resource category already (its names clash"),
    ],
)
def test_bad_names_are_one_line_usage_errors(name: str, plural: str | None, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        make_resource(name, [Field("title", "str", 255)], plural=plural, existing=[EXISTING])
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)
    assert "[" not in str(caught.value)


def test_names_keep_database_identifiers_within_postgresqls_limit() -> None:
    assert len(f"uq_{'x' * MAX_PLURAL_LENGTH}_{'y' * MAX_FIELD_NAME_LENGTH}") <= 63


def test_a_resource_round_trips_through_its_answer() -> None:
    resource = make_resource(
        "product",
        [parse_field("name:str:80:unique"), parse_field("price:decimal?")],
        owned=True,
        down_revision="0001",
    )
    assert read_resources({"resources": [resource.as_answer()]}) == [resource]
    precise = make_resource("rate", [parse_field("value:decimal:10:4")])
    (answer,) = precise.as_answer()["fields"]
    assert (answer["precision"], answer["scale"]) == (10, 4)
    assert read_resources({"resources": [precise.as_answer()]}) == [precise]
    recorded = resource.as_answer()
    for field in recorded["fields"]:
        field.pop("precision", None)
        field.pop("scale", None)
    (earlier,) = read_resources({"resources": [recorded]})
    assert (earlier.fields[1].precision, earlier.fields[1].scale) == (12, 2)
    assert read_resources({}) == []
    with pytest.raises(ValueError, match="not a list"):
        read_resources({"resources": "product"})
    with pytest.raises(ValueError, match="lacks 'fields'"):
        read_resources({"resources": [{"name": "product"}]})


# --- The rendered slice ---------------------------------------------------------------

LONG = "x" * MAX_FIELD_NAME_LENGTH


def _resources() -> list[Resource]:
    """An owned resource with every type, a plain one, one with the longest names, and
    shapes that are easy to get wrong."""
    product = make_resource("product", parse_fields(EVERY_TYPE), owned=True, down_revision="0001")
    category = make_resource(
        "category",
        parse_fields(["title:str:100:unique", "note:text?"]),
        existing=[product],
        down_revision=product.revision,
    )
    longest = make_resource(
        "purchase_order_line_item",
        parse_fields([f"{LONG}:decimal?:unique:index", f"a{LONG[1:]}:str:10000:index", "x:int"]),
        owned=True,
        existing=[product, category],
        down_revision=category.revision,
    )
    resources = [product, category, longest]
    # Shapes whose formatting once differed from ruff's: a short class with a unique
    # field, long owned names, many unique fields; and a name pytest would collect.
    for name, specs, owned in [
        ("tag", ["label:str:40:unique"], False),
        ("ox", ["a:str:unique", "b:int:unique"], True),
        ("testimonial", ["quote:text", "price:decimal:10:4", "at:datetime"], False),
        ("abcdefghijklmnopqrstuvw", ["title:str:unique", "amount:decimal:3:0?"], True),
        ("many", [f"field_number_{c}_with_long_nam:int:unique" for c in "abcdefg"], False),
        ("many_owned", [f"{c}:str:1:unique" for c in "abcdefghijkmnopqrstuvwxyz"], True),
        ("odd_field", ["not_a_field:int", "unknown:int"], False),
    ]:
        resources.append(
            make_resource(
                name,
                parse_fields(specs),
                owned=owned,
                existing=resources,
                down_revision=resources[-1].revision,
            )
        )
    return resources


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory, template_dir: Path) -> Path:
    resources = _resources()
    dest = tmp_path_factory.mktemp("rendered") / "shop"
    data: dict[str, Any] = {
        "project_name": "shop",
        "resources": [resource.as_answer() for resource in resources],
    }
    render_template(TemplateSource(str(template_dir)), dest, data=data, defaults=True)
    return dest


def test_the_template_renders_each_resources_slice_where_slice_paths_says(rendered: Path) -> None:
    for resource in _rendered_resources(rendered):
        for path in slice_paths(resource):
            assert (rendered / path).is_file(), path
    assert not (rendered / "_macros").exists()


def _rendered_resources(rendered: Path) -> list[Resource]:
    import yaml

    answers = yaml.safe_load((rendered / ".copier-answers.yml").read_text())
    return read_resources(answers)


def test_resource_classes_cannot_shadow_what_a_slice_imports(rendered: Path) -> None:
    imported: set[str] = set()
    for resource in _rendered_resources(rendered):
        for path in slice_paths(resource):
            tree = ast.parse((rendered / path).read_text())
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and not (node.module or "").startswith(
                    ("src.schemas.", "src.services.", "src.db.repositories.")
                ):
                    imported |= {alias.name for alias in node.names if alias.name[0].isupper()}
    ours = {resource.class_name for resource in _rendered_resources(rendered)}
    assert imported - ours <= _TAKEN_CLASS_NAMES


def test_pytest_collects_no_resource_class_from_the_slices_tests(rendered: Path) -> None:
    """pytest takes module-level classes named Test... for tests; the project turns the
    warning about their __init__ into an error (a resource named testimonial)."""
    names = {resource.name for resource in _rendered_resources(rendered)}
    assert "testimonial" in names
    for resource in _rendered_resources(rendered):
        for path in slice_paths(resource):
            if not path.startswith("tests/"):
                continue
            tree = ast.parse((rendered / path).read_text())
            for node in tree.body:
                if isinstance(node, ast.Import | ast.ImportFrom):
                    bound = [alias.asname or alias.name for alias in node.names]
                    assert not [name for name in bound if name.startswith("Test")], path


def test_the_unknown_field_a_test_sends_can_be_no_field(rendered: Path) -> None:
    """The API tests send a field the resource lacks and expect a 422; no field spec can
    name it, whatever the resource's fields."""
    (odd,) = [item for item in _rendered_resources(rendered) if item.name == "odd_field"]
    tree = ast.parse((rendered / f"tests/test_api/test_{odd.plural}.py").read_text())
    (invalid,) = [
        node.value
        for node in tree.body
        if isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "INVALID"
    ]
    keys = {ast.literal_eval(item.elts[0]) for item in invalid.elts}  # type: ignore[attr-defined]
    unknown = keys - {field.name for field in odd.fields}
    assert unknown
    for key in unknown:
        with pytest.raises(UsageError):
            parse_field(key)


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff is not installed")
def test_the_slices_are_formatted_and_lint_clean_even_with_the_longest_names(
    rendered: Path,
) -> None:
    """The template writes long lines the way ruff formats them, and sorts imports as ruff
    does; the project's own configuration decides."""
    paths = ["src/api/routes/__init__.py", "src/db/models/__init__.py"]
    for resource in _rendered_resources(rendered):
        paths += slice_paths(resource)
    for command in (["ruff", "format", "--check", "--diff"], ["ruff", "check"]):
        result = subprocess.run(
            [*command, *paths], cwd=rendered, capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stdout + result.stderr


def test_resources_are_no_axis_of_a_verify_matrix() -> None:
    from apiforge.matrix import build_matrix
    from apiforge.template import (
        bundled_template_dir,
        load_config,
        load_questions,
        template_environment,
    )

    folder = bundled_template_dir()
    questions = load_questions(folder)
    matrix = build_matrix(questions, "full", env=template_environment(load_config(folder)))
    assert "resources" in {question.name for question in questions}
    assert "resources" not in {axis.name for axis in matrix.axes}
    assert all(item.context["resources"] == [] for item in matrix.combinations)


def test_each_field_type_is_one_complete_row_of_the_templates_table(template_dir: Path) -> None:
    """Adding a type is one row in the template and one description here; nothing else."""
    from jinja2 import Environment, FileSystemLoader

    env = Environment(loader=FileSystemLoader(template_dir), autoescape=False)
    table = env.get_template("template/_macros/resource.jinja").module.field_types  # type: ignore[attr-defined]
    assert sorted(table) == sorted(FIELD_TYPES)
    columns = {"python", "input", "column", "migration", "bounds", "samples", "invalid"}
    columns |= {"model_imports", "schema_imports"}
    for name, row in table.items():
        assert columns <= set(row), f"{name} lacks {sorted(columns - set(row))}"
        assert len(row["samples"]) == 2, name
        for section, module, _name in [*row["model_imports"], *row["schema_imports"]]:
            assert section in {"stdlib", "third", "first"}, (name, module)
