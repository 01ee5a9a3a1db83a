"""`apiforge add resource`: a CRUD slice, as an update with one more answer.

The template renders one slice (model, repository, schemas, service, routes,
migration and tests) per resource recorded in the project's `resources` answer.
Adding a resource checks everything first, then runs `apiforge update` with the
resource appended to that answer: the new files arrive through the template
branch and one merge commit, a failure is rolled back, and
``apiforge update --undo`` takes the resource out again. Because the resources
are answers, every later update renders them with the newer template.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from apiforge.errors import ApiforgeError, UsageError
from apiforge.migrations import migration_head, new_revision_id
from apiforge.progress import Progress
from apiforge.project import (
    ANSWERS_FILE,
    Installed,
    NotAProjectError,
    Project,
    installed_template,
    read_project,
)
from apiforge.resources import (
    RESOURCES_ANSWER,
    Resource,
    make_resource,
    parse_fields,
    read_resources,
    slice_paths,
)
from apiforge.update import (
    Outcome,
    UpdateOptions,
    UpdateResult,
    undo_update,
    update_project,
)

__all__ = ["AddOptions", "AddResult", "add_resource", "migration_head"]


@dataclass
class AddOptions:
    """What `apiforge add resource` was asked to do."""

    name: str
    fields: Sequence[str]
    """The ``--field`` specs, as typed."""
    project: Path = Path()
    owned: bool = False
    plural: str | None = None
    installed: Installed | None = None
    """The template of bundled projects; the one shipped with apiforge by default."""


@dataclass
class AddResult:
    project: Path
    resource: Resource
    added: list[str]
    """The files the resource brought."""
    changed: list[str]
    """Files of the project the template changed to take the resource in."""
    update: UpdateResult


def _existing(project: Project) -> list[Resource]:
    try:
        return read_resources(project.answers)
    except ValueError as exc:
        raise NotAProjectError(
            f"The {RESOURCES_ANSWER} answer in {ANSWERS_FILE} is broken ({exc}); "
            f"restore it with `git checkout -- {ANSWERS_FILE}`."
        ) from None


def record_resources(
    project: Project,
    installed: Installed,
    answer: list[dict[str, Any]],
    message: str,
    *,
    command: str = "apiforge update",
    progress: Progress | None = None,
) -> UpdateResult:
    """Record *answer* as the project's resources and render what it changes, merged with
    the team's edits and committed with *message*: how every resource command ends.

    The slices are the template's own, proven by its tests, so the models are not compared
    with the migrations; the heads are still checked.
    """
    return update_project(
        UpdateOptions(
            project=project.root,
            installed=installed,
            managed={RESOURCES_ANSWER: answer},
            message=message,
            check_drift=False,
            command=command,
        ),
        progress=progress,
    )


def _check_template(project: Project, installed: Installed, command: str = "add resource") -> None:
    """The template must have the resources question, and the project be on its version.

    *command* is the `apiforge` command asking, as the messages name it."""
    then = "then " + {"add resource": "add the resource"}.get(command, f"run apiforge {command}")
    template = project.template(installed)
    if template is not None and template.question(RESOURCES_ANSWER) is None:
        raise UsageError(
            f"The template of {project.root.name} has no {RESOURCES_ANSWER} question, so it "
            f"cannot render resources; apiforge {command} needs apiforge's template "
            "(or a fork of it)."
        )
    if project.is_bundled:
        if project.behind(installed):
            raise UsageError(
                f"{project.root.name} is on apiforge template {project.version}, older than "
                f"this apiforge's {installed.version}; run `apiforge update` first, {then}."
            )
    elif project.commit is not None:
        from apiforge.check import check_project

        if check_project(project.root).behind:
            raise UsageError(
                f"{project.root.name} is behind its template; run `apiforge update` first, {then}."
            )


def _check_paths(project: Project, resource: Resource) -> None:
    in_the_way = [path for path in slice_paths(resource) if (project.root / path).exists()]
    if in_the_way:
        more = f" and {len(in_the_way) - 1} more" if len(in_the_way) > 1 else ""
        raise UsageError(
            f"{in_the_way[0]}{more} already exists; choose another name for the resource "
            "or move the file away."
        )


def add_resource(options: AddOptions, progress: Progress | None = None) -> AddResult:
    """Add a resource to the project at ``options.project``, all or nothing.

    Every check runs before anything is written: a refused resource leaves the
    project (files and git) exactly as it was. Raises :class:`UsageError` for a
    refusal and :class:`apiforge.update.UpdateConflict` when the project's own
    edits to a shared file (the router or model registry) conflict with the
    template's; then the merge is left to resolve, or to undo with
    ``apiforge update --undo``.
    """
    step = progress or (lambda _step: None)
    step("check")
    fields = parse_fields(options.fields)
    project = read_project(options.project)
    installed = options.installed or installed_template()
    existing = _existing(project)
    # A removed resource keeps its migrations (and their revisions), not its name.
    active = [item for item in existing if item.removed is None]
    if any(item.name == options.name for item in active):
        raise UsageError(f"{project.root.name} has a resource {options.name} already.")
    resource = make_resource(
        options.name,
        fields,
        owned=options.owned,
        plural=options.plural,
        existing=active,
        revision=new_revision_id({rev for item in existing for rev in item.revisions}),
    )
    _check_template(project, installed)
    resource = replace(resource, down_revision=project.migration_head())
    _check_paths(project, resource)

    answer = [item.as_answer() for item in existing] + [resource.as_answer()]
    update = record_resources(
        project,
        installed,
        answer,
        f"Add the {resource.name} resource (apiforge add resource)",
        command=f"apiforge add resource {resource.name}",
        progress=step,
    )
    if not any(item.name == resource.name for item in _existing(read_project(project.root))):
        _undo_quietly(project.root)
        raise UsageError(
            f"The template of {project.root.name} did not record the resource; nothing was "
            "added. Is it a template that renders resources?"
        )
    added = update.having(Outcome.ADDED)
    changed = update.having(Outcome.UPDATED, Outcome.MERGED)
    return AddResult(project.root, resource, added, changed, update)


def _undo_quietly(root: Path) -> None:
    try:
        undo_update(root)
    except ApiforgeError as exc:
        raise UsageError(
            f"The template of {root.name} did not record the resource, and undoing the "
            f"update failed ({exc}); run `apiforge update --undo`."
        ) from exc
