"""`apiforge add field`: new columns for an existing resource, in a migration of their own.

The resource's record in the `resources` answer keeps its full field list (the model,
schemas and tests render every field) and gains a *change*: the revision of a new
migration after the project's head, and the fields it adds. The create migration
renders only the fields the table was created with, so applied history never changes.
Like `apiforge add resource`, the change is an update with a new answer: one merge
commit, rolled back on failure, taken back by ``apiforge update --undo``.

Rows that exist already need a value: a required field gets a server default where
one value fits every type's rows (empty text, zero, false); a date, a datetime or a
UUID has none, so such a field is added as optional and the result says so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from apiforge.errors import UsageError
from apiforge.progress import Progress
from apiforge.project import Installed, installed_template, read_project
from apiforge.resources import (
    RESOURCES_ANSWER,
    AddedField,
    Field,
    FieldChange,
    Resource,
    parse_fields,
)
from apiforge.update import Outcome, UpdateResult

__all__ = [
    "SERVER_DEFAULTS",
    "AddFieldOptions",
    "AddFieldResult",
    "add_field",
    "added_fields",
    "change_path",
    "find_resource",
    "records",
    "taken_revisions",
]

SERVER_DEFAULTS: Mapping[str, str] = {
    "str": "",
    "text": "",
    "int": "0",
    "float": "0",
    "decimal": "0",
    "bool": "false",
}
"""The value existing rows take for a required field of each type; the types missing
here (date, datetime, uuid) have no value that fits, and are added as optional."""

_NAMED_FIELDS = 3
"""Migrations adding more fields than this are named by their number, not their names."""


@dataclass
class AddFieldOptions:
    """What `apiforge add field` was asked to do."""

    resource: str
    fields: Sequence[str]
    """The ``--field`` specs, as typed."""
    project: Path = Path()
    installed: Installed | None = None


@dataclass
class AddFieldResult:
    project: Path
    resource: Resource
    """The resource as recorded now, with every field."""
    change: FieldChange
    migration: str
    """The new migration, relative to the project."""
    changed: list[str]
    """The other files the change updated."""
    update: UpdateResult
    made_optional: list[str]
    """Required fields of a type with no default for existing rows, added as optional."""


def added_fields(fields: Sequence[Field], *, owned: bool = False) -> list[AddedField]:
    """The fields as columns of a table that has rows: each required one gets a server
    default, or is made optional where its type has no default.

    A unique field must be optional (the rows that exist would otherwise share one
    value), and becomes a unique index, which every database adds to a table in place;
    an owned resource's unique values are unique per owner, a table constraint that
    SQLite cannot add, so they are refused there.
    """
    added = []
    for field in fields:
        if field.type == "ref":
            raise UsageError(
                f"add field cannot add a reference yet (--field {field.spec}); references "
                "come with the resource: apiforge add resource."
            )
        if field.unique and owned:
            raise UsageError(
                f"The field {field.name} cannot be added as unique to an owned resource "
                "(unique per owner is a table constraint SQLite cannot add); add it "
                "without unique."
            )
        if field.unique and not field.nullable:
            raise UsageError(
                f"The required field {field.name} cannot be added as unique: the rows that "
                f"exist would all share one value. Add it optional ({field.name}?) or "
                "without unique."
            )
        if field.unique:
            field = replace(field, index=True)
        if field.nullable:
            added.append(AddedField(field))
        elif field.type in SERVER_DEFAULTS:
            added.append(AddedField(field, SERVER_DEFAULTS[field.type]))
        else:
            added.append(AddedField(replace(field, nullable=True)))
    return added


def _slug(table: str, fields: Sequence[AddedField]) -> str:
    if len(fields) > _NAMED_FIELDS:
        return f"add_{len(fields)}_fields_to_{table}"
    return f"add_{'_'.join(added.field.name for added in fields)}_to_{table}"


def change_path(change: FieldChange) -> str:
    """The migration the template renders for *change*, relative to the project."""
    return f"alembic/versions/{change.revision}_{change.slug}.py"


def records(answers: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The recorded resources as they are in the answers file (keys apiforge does not
    know yet are kept as they are)."""
    recorded = answers.get(RESOURCES_ANSWER) or []
    return [dict(item) for item in recorded]


def taken_revisions(resources: Sequence[Resource]) -> set[str]:
    return {revision for resource in resources for revision in resource.revisions}


def find_resource(resources: Sequence[Resource], name: str, project: str) -> int:
    """The index of the resource *name* that is not removed, or a refusal naming the others."""
    for index, resource in enumerate(resources):
        if resource.name == name and resource.removed is None:
            return index
    names = [resource.name for resource in resources if resource.removed is None]
    known = f"its resources: {', '.join(names)}" if names else "it has none"
    raise UsageError(f"{project} has no resource {name} ({known}).")


def add_field(options: AddFieldOptions, progress: Progress | None = None) -> AddFieldResult:
    """Add fields to a resource of the project at ``options.project``, all or nothing.

    Every check runs before anything is written; refusals raise :class:`UsageError`.
    """
    from apiforge.add import _check_template, _existing, record_resources
    from apiforge.migrations import new_revision_id

    step = progress or (lambda _step: None)
    step("check")
    fields = parse_fields(options.fields)
    project = read_project(options.project)
    installed = options.installed or installed_template()
    resources = _existing(project)
    index = find_resource(resources, options.resource, project.root.name)
    resource = resources[index]
    have = {field.name for field in resource.fields}
    for field in fields:
        if field.name in have:
            raise UsageError(f"The resource {resource.name} has a field {field.name} already.")
    added = added_fields(fields, owned=resource.owned)
    _check_template(project, installed, "add field")
    change = FieldChange(
        revision=new_revision_id(taken_revisions(resources)),
        down_revision=project.migration_head(),
        table=resource.table,
        slug=_slug(resource.table, added),
        fields=tuple(added),
    )
    migration = change_path(change)
    if (project.root / migration).exists():
        raise UsageError(f"{migration} already exists; move the file away.")

    answer = records(project.answers)
    record = answer[index]
    record["fields"] = [*record["fields"], *(item.field.as_answer() for item in added)]
    record["changes"] = [*(record.get("changes") or []), change.as_answer()]
    names = ", ".join(item.field.name for item in added)
    update = record_resources(
        project,
        installed,
        answer,
        f"Add {names} to the {resource.name} resource (apiforge add field)",
        progress=step,
    )
    recorded = _existing(read_project(project.root))[index]
    changed = update.having(Outcome.UPDATED, Outcome.MERGED)
    made_optional = [
        field.name
        for field, item in zip(fields, added, strict=True)
        if item.field.nullable and not field.nullable
    ]
    return AddFieldResult(project.root, recorded, change, migration, changed, update, made_optional)
