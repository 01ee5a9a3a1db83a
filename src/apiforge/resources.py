"""Resources of a generated service: field specs, names and their forms, the answer.

A resource is recorded in the project's answers (the `resources` question of the
template) with everything the template needs to render its slice: the names in
every form, the fields, whether it belongs to a user, and the ids of its Alembic
migration. This module turns what a user types (``order_item``,
``title:str:120?``) into that record, and refuses anything that would not render
a working slice, with one line saying why.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from apiforge.errors import UsageError
from apiforge.migrations import new_revision_id

__all__ = [
    "FIELD_TYPES",
    "MODIFIERS",
    "ON_DELETE",
    "RESOURCES_ANSWER",
    "AddedField",
    "Field",
    "FieldChange",
    "Removal",
    "Resource",
    "class_name_of",
    "looks_plural",
    "make_resource",
    "parse_field",
    "parse_fields",
    "pluralize",
    "read_resources",
    "slice_paths",
]

RESOURCES_ANSWER = "resources"
"""The template question whose answer lists the project's resources."""

FIELD_TYPES: Mapping[str, str] = {
    "str": "short text, 255 characters unless given (str:80)",
    "text": "long text (up to 10,000 characters)",
    "int": "whole number (32-bit)",
    "float": "floating-point number",
    "decimal": "exact number, NUMERIC(12, 2) unless given (decimal:10:4)",
    "bool": "true or false",
    "date": "calendar date",
    "datetime": "date and time with time zone",
    "uuid": "UUID",
    "ref": "reference to a row of another resource, or of user (a foreign key NAME_id)",
}
"""The field types, with how `apiforge add resource --help` describes them.

The template renders each type from one row of `field_types` in
`template/_macros/resource.jinja`; a test fails when the two lists differ."""

MODIFIERS: Mapping[str, str] = {
    "optional": "may be null (also: a trailing ? on the name or type)",
    "unique": "no two rows share the value (per owner with --owned)",
    "index": "indexed for lookups",
}

ON_DELETE: Mapping[str, str] = {
    "restrict": "a referenced row cannot be deleted while rows refer to it (the default)",
    "cascade": "deleting a referenced row deletes the rows that refer to it",
    "set-null": "deleting a referenced row empties the reference (optional references only)",
}
"""What happens to a ``ref`` field's row when the row it refers to is deleted."""

REF_TARGET_USER = "user"
"""The built-in resource a ``ref`` field may refer to besides the project's own."""
# PostgreSQL cuts identifiers longer than this, which Alembic would then see as changes.
MAX_IDENTIFIER_LENGTH = 63

DEFAULT_STR_LENGTH = 255
MAX_STR_LENGTH = 10_000
DEFAULT_PRECISION = 12
DEFAULT_SCALE = 2
# SQLite keeps a NUMERIC in a double, which holds 15 significant digits exactly.
MAX_PRECISION = 15
# Longer names would not fit the generated code's lines. They also keep the longest
# index or constraint name, ``uq_<plural>_<field>``, within PostgreSQL's 63 characters.
MAX_NAME_LENGTH = 24
MAX_PLURAL_LENGTH = 27
MAX_FIELD_NAME_LENGTH = 30

_SNAKE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")
_TWO_DIGITS = re.compile(r"[0-9]{2}")

# Module and table names the generated service already uses, as a resource's name
# (models, repositories, services, schemas, service tests) or plural (routes, API
# tests, tables, URLs under /api).
_RESERVED_NAMES = frozenset(
    {
        "auth",
        "base",
        "common",
        "refresh_token",
        "user",
    }
)
_RESERVED_PLURALS = frozenset(
    {
        "alembic_version",
        "api",
        "auth",
        "deps",
        "docs",
        "errors",
        "health",
        "openapi",
        "refresh_tokens",
        "users",
    }
)
# Words that would be confusing as a resource even where no file clashes.
_RESERVED_WORDS = frozenset(
    {"api", "app", "apiforge", "alembic", "db", "main", "src", "test", "tests", "token", "tokens"}
)

# Names imported by the modules of a slice: a resource's class must not shadow them.
# tests/test_resources.py checks this list against the rendered files.
_TAKEN_CLASS_NAMES = frozenset(
    {
        "APIRouter",
        "Annotated",
        "Any",
        "AsyncClient",
        "AsyncSession",
        "AwareDatetime",
        "AwareUTCDatetime",
        "Base",
        "BaseModel",
        "Boolean",
        "ConfigDict",
        "ConflictError",
        "CurrentUser",
        "Date",
        "Decimal",
        "Double",
        "ErrorResponse",
        "Field",
        "ForeignKey",
        "Integer",
        "IntegrityError",
        "InvalidReferenceError",
        "Literal",
        "Mapped",
        "Mapping",
        "NotFoundError",
        "Numeric",
        "Page",
        "Query",
        "RefreshToken",
        "Select",
        "Sequence",
        "SessionDep",
        "String",
        "Text",
        "TimestampMixin",
        "UTCDateTime",
        "UniqueConstraint",
        "User",
        "Uuid",
    }
)

# Field names the slice uses itself, that SQLAlchemy or Pydantic keep for themselves, or
# that would shadow a name a model or schema class body refers to.
_RESERVED_FIELDS = frozenset(
    {
        "id",
        "owner",
        "owner_id",
        "created_at",
        "updated_at",
        "metadata",
        "registry",
        # the first argument of every method: a field of that name breaks the model's __init__
        "self",
        "bool",
        "bytes",
        "classmethod",
        "date",
        "datetime",
        "dict",
        "field_validator",
        "float",
        "int",
        "list",
        "mapped_column",
        "object",
        "str",
        "uuid",
        # BaseModel's own attributes
        "construct",
        "copy",
        "from_orm",
        "json",
        "parse_file",
        "parse_obj",
        "parse_raw",
        "schema",
        "schema_json",
        "update_forward_refs",
        "validate",
    }
)

# --- Plurals ------------------------------------------------------------------

# English plurals come from inflect; `--plural` covers the words it gets wrong. Only
# new resources take a computed plural: a project's answers record each resource's
# plural, which is never computed again.

# Mass nouns, which inflect would give a plural (data -> datum, software -> softwares).
_UNCOUNTABLE = frozenset(
    {"data", "equipment", "feedback", "information", "media", "metadata", "money", "news"}
    | {"series", "software", "species", "staff"}
)
# Singular words ending in "s" that inflect would take for plurals (canvas -> canva).
_SINGULAR_S = frozenset(
    {"alias", "atlas", "bias", "canvas", "chaos", "cosmos", "gas", "kudos", "lens", "yes"}
)


@cache
def _inflect() -> Any:
    """inflect's engine, imported only by a command that derives a plural.

    inflect wraps its functions in typeguard's `typechecked`, which re-parses and
    recompiles each of them at import (about 2 s of CPU, 10 times the rest of the
    import). apiforge imports it as `python -O` would, where `typechecked` leaves a
    function as it is: the plurals are the same, and apiforge only passes it strings.
    """
    import sys

    if "inflect" in sys.modules:
        import inflect
    else:
        import typeguard

        checked = typeguard.typechecked
        typeguard.typechecked = _unchecked
        try:
            import inflect
        finally:
            typeguard.typechecked = checked
    return inflect.engine()


def _unchecked(target: Any = None, **_options: Any) -> Any:
    """`typeguard.typechecked` as it is under `python -O`: the function, as it is."""
    return target if target is not None else _unchecked


def _plural_word(word: str) -> str:
    if word in _UNCOUNTABLE:
        return word
    return str(_inflect().plural_noun(word))


def pluralize(name: str) -> str:
    """The plural of a snake_case name: the last word takes the English plural.

    ``category`` → ``categories``, ``box`` → ``boxes``, ``order_item`` →
    ``order_items``, ``person`` → ``people``.
    """
    head, sep, last = name.rpartition("_")
    return f"{head}{sep}{_plural_word(last)}"


def looks_plural(name: str) -> str | None:
    """If *name* looks like a plural, a guess at its singular; else None."""
    last = name.rpartition("_")[2]
    if last in _UNCOUNTABLE or last in _SINGULAR_S or last.endswith(("ss", "us", "is")):
        return None
    singular = _inflect().singular_noun(last)
    if not singular or singular == last:
        return None
    return name[: -len(last)] + str(singular)


def class_name_of(name: str) -> str:
    """``order_item`` → ``OrderItem``."""
    return "".join(part[:1].upper() + part[1:] for part in name.split("_"))


def _snake_hint(text: str) -> str | None:
    """The snake_case spelling of ``OrderItem``, ``order-item`` or ``Order Item``."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", text.strip())
    snake = re.sub(r"[-\s]+", "_", spaced).lower()
    return snake if _SNAKE.match(snake) and snake != text else None


# --- Fields -------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """One column of a resource."""

    name: str
    type: str
    length: int | None = None
    """Maximum length of a ``str`` field; None for other types."""
    nullable: bool = False
    unique: bool = False
    index: bool = False
    precision: int | None = None
    """Digits in all of a ``decimal`` field; None for other types."""
    scale: int | None = None
    """Digits after the point of a ``decimal`` field; None for other types."""
    target: str | None = None
    """The resource a ``ref`` field refers to (its singular name, or ``user``)."""
    on_delete: str | None = None
    """A ``ref`` field's rule when the referenced row is deleted: a key of `ON_DELETE`."""

    def __post_init__(self) -> None:
        if self.type == "decimal":
            # Answers recorded before precision and scale could be set meant NUMERIC(12, 2).
            if self.precision is None:
                object.__setattr__(self, "precision", DEFAULT_PRECISION)
            if self.scale is None:
                object.__setattr__(self, "scale", DEFAULT_SCALE)

    def as_answer(self) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "name": self.name,
            "type": self.type,
            "length": self.length,
            "nullable": self.nullable,
            "unique": self.unique,
            "index": self.index,
        }
        if self.type == "decimal":
            answer |= {"precision": self.precision, "scale": self.scale}
        if self.type == "ref":
            answer |= {"target": self.target, "on_delete": self.on_delete}
        return answer

    @classmethod
    def from_answer(cls, answer: Mapping[str, Any]) -> Field:
        """Read one recorded field (records older than references have no target)."""
        kind = str(answer["type"])
        target = answer.get("target")
        on_delete = answer.get("on_delete")
        if kind == "ref":
            target = target or str(answer["name"]).removesuffix("_id")
            on_delete = on_delete or "restrict"
        return cls(
            name=str(answer["name"]),
            type=kind,
            length=_optional_int(answer.get("length")),
            nullable=bool(answer.get("nullable", False)),
            unique=bool(answer.get("unique", False)),
            index=bool(answer.get("index", False)),
            precision=_optional_int(answer.get("precision")),
            scale=_optional_int(answer.get("scale")),
            target=None if target is None else str(target),
            on_delete=None if on_delete is None else str(on_delete),
        )

    @property
    def spec(self) -> str:
        """The field as `--field` takes it: ``title:str:80:unique?``, ``category:ref``."""
        if self.type == "ref":
            base = self.name.removesuffix("_id")
            parts = [base, "ref"]
            if self.target != base:
                parts.append(str(self.target))
            if self.on_delete != "restrict":
                parts.append(str(self.on_delete))
            return ":".join(parts) + ("?" if self.nullable else "")
        parts = [self.name, self.type]
        if self.type == "str" and self.length != DEFAULT_STR_LENGTH:
            parts.append(str(self.length))
        if self.type == "decimal" and (self.precision, self.scale) != (
            DEFAULT_PRECISION,
            DEFAULT_SCALE,
        ):
            parts += [str(self.precision), str(self.scale)]
        parts += [flag for flag in ("unique", "index") if getattr(self, flag)]
        return ":".join(parts) + ("?" if self.nullable else "")


def _check_field_name(name: str, spec: str) -> None:
    if not name:
        raise UsageError(f"The field {spec!r} has no name; write NAME:TYPE, e.g. title:str.")
    if not _SNAKE.match(name):
        hint = _snake_hint(name)
        also = f" (did you mean {hint}?)" if hint else ""
        raise UsageError(
            f"The field name {name!r} is not snake_case{also}: use lowercase letters, digits "
            "and single underscores, starting with a letter."
        )
    if keyword.iskeyword(name):
        raise UsageError(f"The field name {name!r} is a Python keyword; choose another name.")
    if len(name) > MAX_FIELD_NAME_LENGTH:
        raise UsageError(
            f"The field name {name!r} is longer than {MAX_FIELD_NAME_LENGTH} characters."
        )
    if name == "l":
        raise UsageError(
            "The field name 'l' reads like the digit 1 (ruff refuses it as ambiguous); "
            "choose another name."
        )
    if name in {"owner", "owner_id"}:
        raise UsageError(
            f"The field name {name!r} is reserved: --owned adds owner_id, the user who "
            "created the row; use --owned instead of a field."
        )
    if name in _RESERVED_FIELDS or name.startswith("model_"):
        raise UsageError(
            f"The field name {name!r} is reserved (the resource, SQLAlchemy or Pydantic "
            "use it already); choose another name."
        )


def _unknown(kind: str, word: str, valid: Iterable[str], spec: str) -> UsageError:
    return UsageError(
        f"Unknown {kind} {word!r} in --field {spec}; valid {kind}s: {', '.join(valid)}."
    )


def parse_field(spec: str) -> Field:
    """Parse one ``--field`` value: ``NAME:TYPE[:LENGTH][:MODIFIER...]``.

    ``title`` alone is a ``str``; a ``?`` after the name or the type, or the
    modifier ``optional``, makes the field nullable.
    """
    text = spec.strip()
    parts = [part.strip() for part in text.split(":")]
    name, nullable = parts[0], False
    if name.endswith("?"):
        name, nullable = name[:-1], True
    _check_field_name(name, spec)
    kind = parts[1] if len(parts) > 1 else "str"
    if kind.endswith("?"):
        kind, nullable = kind[:-1], True
    if kind not in FIELD_TYPES:
        raise _unknown("type", kind, FIELD_TYPES, spec)
    if kind == "ref":
        return _parse_ref(spec, name, nullable, parts[2:])
    length: int | None = DEFAULT_STR_LENGTH if kind == "str" else None
    numbers: list[int] = []
    flags: set[str] = set()
    for part in parts[2:]:
        word = part
        if word.endswith("?"):
            word, nullable = word[:-1], True
        if word.lstrip("+-").isdigit():
            numbers.append(_number(word, name, kind, spec))
        elif word == "optional":
            nullable = True
        elif word in MODIFIERS:
            flags.add(word)
        else:
            raise _unknown("modifier", word, MODIFIERS, spec)
    if kind == "bool" and "unique" in flags:
        raise UsageError(f"The bool field {name} cannot be unique (it has only two values).")
    precision = scale = None
    if len(numbers) > (2 if kind == "decimal" else 1):
        raise UsageError(
            f"--field {spec} gives too many numbers: a str takes a length (str:80), a "
            "decimal a precision and a scale (decimal:10:4)."
        )
    if kind == "str" and numbers:
        (length,) = numbers
        if length > MAX_STR_LENGTH:
            raise UsageError(
                f"The length of {name} must be between 1 and {MAX_STR_LENGTH:,} "
                "(use text for longer values)."
            )
    elif kind == "decimal":
        precision = numbers[0] if numbers else DEFAULT_PRECISION
        scale = numbers[1] if len(numbers) > 1 else DEFAULT_SCALE
        if not 1 <= precision <= MAX_PRECISION or scale > precision:
            raise UsageError(
                f"The decimal {name} takes a precision from 1 to {MAX_PRECISION} digits and "
                f"a scale of at most the precision (decimal:{DEFAULT_PRECISION}:"
                f"{DEFAULT_SCALE} if not given); --field {spec} gives {precision}:{scale}."
            )
    return Field(
        name, kind, length, nullable, "unique" in flags, "index" in flags, precision, scale
    )


def _number(word: str, name: str, kind: str, spec: str) -> int:
    """A length (str), a precision or a scale (decimal) in ``--field`` *spec*."""
    if kind not in {"str", "decimal"}:
        raise UsageError(
            "Only str fields take a length, and decimal fields a precision and scale; "
            f"--field {spec} gives {word} to a {kind}."
        )
    if kind == "str" and (not word.isdigit() or int(word) < 1):
        raise UsageError(
            f"The length of {name} must be a positive integer, between 1 and "
            f"{MAX_STR_LENGTH:,}; --field {spec} gives {word}."
        )
    if not word.isdigit():
        raise UsageError(
            f"The precision and scale of {name} must be whole numbers "
            f"(decimal:{DEFAULT_PRECISION}:{DEFAULT_SCALE}); --field {spec} gives {word}."
        )
    return int(word)


def _parse_ref(spec: str, name: str, nullable: bool, words: Sequence[str]) -> Field:
    """``category:ref[:TARGET][:RULE]``: the column ``category_id``, referring to the
    resource TARGET (by default the one the field is named after)."""
    base = name.removesuffix("_id") or name
    column = f"{base}_id"
    _check_field_name(column, spec)
    target: str | None = None
    on_delete: str | None = None
    for part in words:
        word = part
        if word.endswith("?"):
            word, nullable = word[:-1], True
        if word == "optional":
            nullable = True
        elif word in ON_DELETE:
            if on_delete is not None and on_delete != word:
                raise UsageError(f"--field {spec} gives two on-delete rules; choose one.")
            on_delete = word
        elif word == "index":
            pass  # a reference is always indexed
        elif word == "unique":
            raise UsageError(
                f"A reference cannot be unique (--field {spec}); one-to-one references are "
                "not supported."
            )
        elif word.isdigit():
            raise UsageError(
                f"Only str fields take a length; --field {spec} gives {word} to a ref."
            )
        elif _SNAKE.match(word) and target is None:
            target = word
        else:
            valid = [*ON_DELETE, "optional", "the resource referred to"]
            raise _unknown("modifier", word, valid, spec)
    on_delete = on_delete or "restrict"
    if on_delete == "set-null" and not nullable:
        raise UsageError(
            f"set-null needs an optional reference: write {base}:ref?:set-null "
            f"(--field {spec} is required)."
        )
    return Field(
        column, "ref", nullable=nullable, index=True, target=target or base, on_delete=on_delete
    )


def parse_fields(specs: Sequence[str]) -> list[Field]:
    """Parse every ``--field``; at least one, no name twice."""
    if not specs:
        raise UsageError("Give the resource at least one field, e.g. --field title:str.")
    fields = [parse_field(spec) for spec in specs]
    seen: set[str] = set()
    for field in fields:
        if field.name in seen:
            raise UsageError(f"The field {field.name} is given twice.")
        seen.add(field.name)
    return fields


# --- Resources ------------------------------------------------------------------


@dataclass(frozen=True)
class AddedField:
    """A field added to an existing table, with what its rows get."""

    field: Field
    server_default: str | None = None
    """The SQL value existing rows take (``""``, ``"0"``, ``"false"``); None when the
    column is nullable and they are left null."""

    def as_answer(self) -> dict[str, Any]:
        return {**self.field.as_answer(), "server_default": self.server_default}


@dataclass(frozen=True)
class FieldChange:
    """Fields added to a resource after its table was created: one migration of their own
    (`apiforge add field`), recorded so that it keeps rendering as it was applied."""

    revision: str
    down_revision: str | None
    table: str
    slug: str
    """The migration's file name after the revision: ``add_sku_to_products``."""
    fields: tuple[AddedField, ...]

    def as_answer(self) -> dict[str, Any]:
        return {
            "revision": self.revision,
            "down_revision": self.down_revision,
            "table": self.table,
            "slug": self.slug,
            "fields": [added.as_answer() for added in self.fields],
        }


@dataclass(frozen=True)
class Removal:
    """The migration that dropped a removed resource's table (`apiforge remove resource`)."""

    revision: str
    down_revision: str | None

    def as_answer(self) -> dict[str, Any]:
        return {"revision": self.revision, "down_revision": self.down_revision}


def _optional_str(value: Any) -> str | None:
    return None if value is None else str(value)


def _change_from_answer(answer: Mapping[str, Any]) -> FieldChange:
    return FieldChange(
        revision=str(answer["revision"]),
        down_revision=_optional_str(answer.get("down_revision")),
        table=str(answer["table"]),
        slug=str(answer["slug"]),
        fields=tuple(
            AddedField(Field.from_answer(field), _optional_str(field.get("server_default")))
            for field in answer["fields"]
        ),
    )


@dataclass(frozen=True)
class Resource:
    """A resource as the template renders it, and as the answers file records it."""

    name: str
    """Singular, snake_case: module names (``order_item``)."""
    plural: str
    """Route module, table and URL (``order_items``)."""
    class_name: str
    table: str
    path: str
    """The router's prefix under /api (``/order-items``)."""
    fields: tuple[Field, ...]
    owned: bool
    revision: str
    """The Alembic revision of the migration that creates the table."""
    down_revision: str | None
    changes: tuple[FieldChange, ...] = ()
    """Fields added since the table was created (they are in `fields` too); the create
    migration renders the fields of none of them."""
    removed: Removal | None = None
    """Set once the resource is removed: its migrations still render, its code does not."""

    def as_answer(self) -> dict[str, Any]:
        extra: dict[str, Any] = {}
        if self.changes:
            extra["changes"] = [change.as_answer() for change in self.changes]
        if self.removed is not None:
            extra["removed"] = self.removed.as_answer()
        return {
            "name": self.name,
            "plural": self.plural,
            "class_name": self.class_name,
            "table": self.table,
            "path": self.path,
            "owned": self.owned,
            "revision": self.revision,
            "down_revision": self.down_revision,
            "fields": [field.as_answer() for field in self.fields],
            **extra,
        }

    @classmethod
    def from_answer(cls, answer: Any) -> Resource:
        """Read one recorded resource; a malformed record raises ValueError."""
        if not isinstance(answer, Mapping):
            raise ValueError("a resource is not a mapping")
        try:
            fields = tuple(Field.from_answer(field) for field in answer["fields"])
            changes = tuple(_change_from_answer(change) for change in answer.get("changes") or ())
            removed = answer.get("removed")
            down = answer.get("down_revision")
            return cls(
                name=str(answer["name"]),
                plural=str(answer["plural"]),
                class_name=str(answer["class_name"]),
                table=str(answer["table"]),
                path=str(answer["path"]),
                fields=fields,
                owned=bool(answer.get("owned", False)),
                revision=str(answer["revision"]),
                down_revision=None if down is None else str(down),
                changes=changes,
                removed=None
                if removed is None
                else Removal(str(removed["revision"]), _optional_str(removed.get("down_revision"))),
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"a resource lacks {exc}") from None

    @property
    def url(self) -> str:
        return f"/api{self.path}"

    @property
    def unique_fields(self) -> list[str]:
        return [field.name for field in self.fields if field.unique]

    @property
    def revisions(self) -> list[str]:
        """Every Alembic revision the resource's migrations have."""
        revisions = [self.revision] + [change.revision for change in self.changes]
        return revisions + ([self.removed.revision] if self.removed else [])


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


def read_resources(answers: Mapping[str, Any]) -> list[Resource]:
    """The resources a project's answers record (none when the answer is missing)."""
    recorded = answers.get(RESOURCES_ANSWER)
    if recorded is None:
        return []
    if not isinstance(recorded, list):
        raise ValueError("the resources answer is not a list")
    return [Resource.from_answer(item) for item in recorded]


def _check_name(name: str, *, what: str = "resource name") -> None:
    if not name:
        raise UsageError(f"The {what} is empty.")
    if not _SNAKE.match(name):
        hint = _snake_hint(name)
        also = f" (did you mean {hint}?)" if hint else ""
        raise UsageError(
            f"The {what} {name!r} is not snake_case{also}: use lowercase letters, digits "
            "and single underscores, starting with a letter."
        )
    if _TWO_DIGITS.search(name):
        raise UsageError(
            f"The {what} {name!r} has a number of two or more digits; use at most one digit "
            "in a row (generated imports are sorted, and ruff sorts numbers differently)."
        )
    if keyword.iskeyword(name):
        raise UsageError(f"The {what} {name!r} is a Python keyword; choose another name.")


def _reserved(word: str) -> bool:
    return word in _RESERVED_NAMES or word in _RESERVED_PLURALS or word in _RESERVED_WORDS


def make_resource(
    name: str,
    fields: Sequence[Field],
    *,
    owned: bool = False,
    plural: str | None = None,
    existing: Sequence[Resource] = (),
    down_revision: str | None = None,
    revision: str | None = None,
) -> Resource:
    """Check *name* (and *plural*, when given) and build the resource.

    Refuses invalid or reserved names, plural-looking names without an explicit
    plural, and names, classes or tables an *existing* resource already has.
    """
    _check_name(name)
    if len(name) > MAX_NAME_LENGTH:
        raise UsageError(f"The resource name {name!r} is longer than {MAX_NAME_LENGTH} characters.")
    given_plural = plural is not None
    if plural is None:
        singular = looks_plural(name)
        if singular is not None and singular != name:
            raise UsageError(
                f"The resource name {name!r} looks plural; name it in the singular "
                f"({singular}), or give --plural if {name} is singular."
            )
        plural = pluralize(name)
    _check_name(plural, what="plural")
    if len(plural) > MAX_PLURAL_LENGTH:
        raise UsageError(f"The plural {plural!r} is longer than {MAX_PLURAL_LENGTH} characters.")
    class_name = class_name_of(name)
    if given_plural and _reserved(plural) and not _reserved(name):
        raise UsageError(
            f"The plural {plural!r} is reserved (the service has a module, table or URL of "
            "that name already); choose another plural."
        )
    if _reserved(name) or _reserved(plural) or class_name in _TAKEN_CLASS_NAMES:
        raise UsageError(
            f"The resource name {name!r} is reserved (the service has a module, table or "
            "URL of that name already); choose another name."
        )
    if class_name.isupper():
        raise UsageError(
            f"The resource name {name!r} makes the class name {class_name}, which reads as a "
            "constant; choose a longer name."
        )
    for other in existing:
        clash = {name, plural} & {other.name, other.plural}
        if clash or other.class_name == class_name or other.table == plural:
            raise UsageError(
                f"The project has a resource {other.name} already"
                + (f" (its names clash with {name})" if other.name != name else "")
                + "; choose another name."
            )
    _check_references(name, plural, fields, existing)
    resource = Resource(
        name=name,
        plural=plural,
        class_name=class_name,
        table=plural,
        path="/" + plural.replace("_", "-"),
        fields=tuple(fields),
        owned=owned,
        revision=revision or new_revision_id({item.revision for item in existing}),
        down_revision=down_revision,
    )
    return resource


def _check_references(
    name: str, plural: str, fields: Sequence[Field], existing: Sequence[Resource]
) -> None:
    """Every ``ref`` field must refer to a resource added before, or to user."""
    tables = {item.name: item.table for item in existing if item.removed is None}
    tables[REF_TARGET_USER] = "users"
    for field in fields:
        if field.type != "ref" or field.target is None:
            continue
        if field.target == name:
            raise UsageError(
                f"--field {field.spec} refers to the resource being added; a resource cannot "
                "refer to itself."
            )
        if field.target not in tables:
            known = ", ".join(sorted(tables))
            raise UsageError(
                f"--field {field.spec} refers to {field.target}, which the project has no "
                f"resource of; add it first, or refer to one of: {known}."
            )
        constraint = f"fk_{plural}_{field.name}_{tables[field.target]}"
        if len(constraint) > MAX_IDENTIFIER_LENGTH:
            raise UsageError(
                f"The foreign key of --field {field.spec} would be named {constraint}, longer "
                f"than PostgreSQL's {MAX_IDENTIFIER_LENGTH} characters; choose a shorter name."
            )


def slice_paths(resource: Resource) -> list[str]:
    """The files the template renders for *resource*, relative to the project."""
    name, plural = resource.name, resource.plural
    return [
        f"src/db/models/{name}.py",
        f"src/db/repositories/{name}.py",
        f"src/schemas/{name}.py",
        f"src/services/{name}.py",
        f"src/api/routes/{plural}.py",
        f"alembic/versions/{resource.revision}_create_{resource.table}.py",
        f"tests/test_api/test_{plural}.py",
        f"tests/test_services/test_{name}.py",
    ]
