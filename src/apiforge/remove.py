"""`apiforge remove resource`: a resource's code goes, a migration drops its table.

Deployed databases ran the resource's migrations, so they stay: the resource stays
recorded in the `resources` answer with ``removed`` (the revision of a migration,
after the project's head, that drops the table). The template then renders its
migrations and nothing else of it. Like `apiforge add resource`, the removal is an
update with a new answer: one merge commit, rolled back on failure, taken back by
``apiforge update --undo``. The same name can be added again later: a new table,
created by a new migration after the drop.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from apiforge.errors import UsageError
from apiforge.fields import find_resource, records, taken_revisions
from apiforge.progress import Progress
from apiforge.project import Installed, installed_template, read_project
from apiforge.resources import Removal, Resource
from apiforge.update import Outcome, UpdateResult

__all__ = [
    "RemoveOptions",
    "RemoveResult",
    "drop_path",
    "references_to",
    "remove_resource",
]


@dataclass
class RemoveOptions:
    """What `apiforge remove resource` was asked to do."""

    name: str
    project: Path = Path()
    installed: Installed | None = None


@dataclass
class RemoveResult:
    project: Path
    resource: Resource
    """The resource as recorded now, removed."""
    migration: str
    """The migration that drops the table, relative to the project."""
    removed: list[str]
    """The files of the resource that went."""
    kept: list[str]
    """Files of the resource the team had changed: kept, for the team to delete or keep."""
    changed: list[str]
    """Other files the removal updated (the router and model registries)."""
    update: UpdateResult


def references_to(recorded: Sequence[Mapping[str, Any]], name: str) -> list[str]:
    """The fields (``resource.field``) of resources not removed that reference *name*.

    A reference is a field of type ``ref`` whose ``target`` is the resource (a record
    without a target points at the resource its field is named after, as
    ``--field category:ref`` does).
    """
    found = []
    for resource in recorded:
        if resource.get("removed") or resource.get("name") == name:
            continue
        for field in resource.get("fields") or []:
            if field.get("type") not in {"ref", "ref?"}:
                continue
            if (field.get("target") or field.get("name")) == name:
                found.append(f"{resource.get('name')}.{field.get('name')}")
    return found


def drop_path(resource: Resource) -> str:
    """The migration the template renders to drop a removed *resource*'s table."""
    if resource.removed is None:
        raise ValueError(f"the resource {resource.name} is not removed")
    return f"alembic/versions/{resource.removed.revision}_drop_{resource.table}.py"


def remove_resource(options: RemoveOptions, progress: Progress | None = None) -> RemoveResult:
    """Remove a resource of the project at ``options.project``, all or nothing.

    Every check runs before anything is written; refusals raise :class:`UsageError`.
    """
    from apiforge.add import _check_template, _existing, record_resources
    from apiforge.migrations import new_revision_id

    step = progress or (lambda _step: None)
    step("check")
    project = read_project(options.project)
    installed = options.installed or installed_template()
    resources = _existing(project)
    index = find_resource(resources, options.name, project.root.name)
    resource = resources[index]
    answer = records(project.answers)
    referencing = references_to(answer, resource.name)
    if referencing:
        raise UsageError(
            f"{', '.join(referencing)} still reference{'s' if len(referencing) == 1 else ''} "
            f"{resource.name}; remove those fields or resources first."
        )
    _check_template(project, installed, "remove resource")
    removal = Removal(new_revision_id(taken_revisions(resources)), project.migration_head())
    migration = drop_path(replace(resource, removed=removal))
    if (project.root / migration).exists():
        raise UsageError(f"{migration} already exists; move the file away.")

    answer[index]["removed"] = removal.as_answer()
    update = record_resources(
        project,
        installed,
        answer,
        f"Remove the {resource.name} resource (apiforge remove resource)",
        progress=step,
    )
    recorded = _existing(read_project(project.root))[index]
    return RemoveResult(
        project=project.root,
        resource=recorded,
        migration=migration,
        removed=update.having(Outcome.REMOVED),
        kept=update.having(Outcome.KEPT_YOURS),
        changed=update.having(Outcome.UPDATED, Outcome.MERGED),
        update=update,
    )
