"""`apiforge check`: is a project on the template version this apiforge installs?

For CI: it reads the project's answers file and apiforge's changelog, and needs
neither git history nor copier.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from apiforge.errors import UsageError
from apiforge.project import Installed, installed_template, parse_version, read_project

if TYPE_CHECKING:
    from packaging.version import Version

    from apiforge.project import Project

__all__ = ["ChangelogEntry", "CheckResult", "changes_between", "check_project", "read_changelog"]

_HEADING = re.compile(r"^##\s+\[?(?P<version>[vV]?\d[^\s\]]*)")
_DESCRIBE = re.compile(r"^(?P<tag>.+)-\d+-g[0-9a-f]+$")


@dataclass(frozen=True)
class ChangelogEntry:
    """One version's section of the changelog."""

    version: str
    text: str


@dataclass(frozen=True)
class CheckResult:
    """Where a project stands against the newest template version."""

    project: Path
    source: str
    current: str
    latest: str
    behind: bool
    changes: list[ChangelogEntry] = field(default_factory=list)
    """The changelog entries after ``current`` up to ``latest``, newest first."""
    update_in_progress: bool = False
    """An update's merge is in progress (conflicts to resolve); ``current`` is the
    committed version."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "project": str(self.project),
            "source": self.source,
            "current": self.current,
            "latest": self.latest,
            "behind": self.behind,
            "update_in_progress": self.update_in_progress,
            "changes": [{"version": entry.version, "text": entry.text} for entry in self.changes],
        }


def read_changelog(path: Path) -> list[ChangelogEntry]:
    """The entries of a changelog whose sections are headed ``## 0.2.0`` (or ``## [v0.2.0]``)."""
    entries: list[ChangelogEntry] = []
    version: str | None = None
    lines: list[str] = []

    def close() -> None:
        if version is not None:
            entries.append(ChangelogEntry(version, "\n".join(lines).strip()))

    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            close()
            lines = []
            match = _HEADING.match(line)
            version = None
            if match:
                try:
                    version = str(parse_version(match["version"]))
                except UsageError:
                    version = None
        elif version is not None:
            lines.append(line)
    close()
    return entries


def changes_between(
    entries: list[ChangelogEntry], current: Version, latest: Version
) -> list[ChangelogEntry]:
    """The entries newer than *current*, up to and including *latest*, newest first."""
    chosen = [entry for entry in entries if current < parse_version(entry.version) <= latest]
    return sorted(chosen, key=lambda entry: parse_version(entry.version), reverse=True)


def check_project(path: Path, installed: Installed | None = None) -> CheckResult:
    """Compare the project holding *path* with the newest version of its template.

    For apiforge's bundled template that is the installed apiforge's version; for
    another template it is the newest release tag of its git repository. A broken
    answers file, or a project newer than the installed apiforge, is a usage error.
    """
    project = read_project(path)
    in_progress = _update_in_progress(project.root)
    if in_progress:
        project = read_project(path, committed=True)
    if not project.is_bundled:
        return replace(_check_other(project), update_in_progress=in_progress)
    installed = installed or installed_template()
    current = project.version
    if current is None:  # read_project refuses these already
        raise UsageError(f"{project.root} records no template version.")
    latest = parse_version(installed.version)
    behind = project.behind(installed)
    changes: list[ChangelogEntry] = []
    if behind and installed.changelog is not None:
        changes = changes_between(read_changelog(installed.changelog), current, latest)
    return CheckResult(
        project=project.root,
        source=project.src_path,
        current=str(current),
        latest=str(latest),
        behind=behind,
        changes=changes,
        update_in_progress=in_progress,
    )


def _update_in_progress(root: Path) -> bool:
    """Whether the project is in the middle of an update's merge."""
    from apiforge.errors import UserError
    from apiforge.git import Git
    from apiforge.project import TEMPLATE_REF

    try:
        git = Git(root)
    except UserError:  # no git: no merge either
        return False
    if not git.ok("rev-parse", "--quiet", "--verify", "MERGE_HEAD"):
        return False
    merging = git.run("rev-parse", "MERGE_HEAD").strip()
    return (
        git.ok("rev-parse", "--quiet", "--verify", TEMPLATE_REF)
        and merging == git.run("rev-parse", TEMPLATE_REF).strip()
    )


def _check_other(project: Project) -> CheckResult:
    """Compare a project of another template with that template's newest release tag."""
    from packaging.version import InvalidVersion, Version

    location = project.template_location()
    from apiforge.git import Git

    listed = Git(project.root).attempt("ls-remote", "--tags", "--refs", location)
    if listed.returncode != 0:
        reason = (listed.stderr.strip().splitlines() or ["not a git repository"])[-1]
        raise UsageError(f"Cannot list the versions of the template {location}: {reason}")
    releases: list[tuple[Version, str]] = []
    for line in listed.stdout.splitlines():
        tag = line.rpartition("refs/tags/")[2]
        try:
            version = Version(tag.removeprefix("v"))
        except InvalidVersion:
            continue
        if not version.is_prerelease:
            releases.append((version, tag))
    if not releases:
        raise UsageError(f"The template {location} has no release tags to compare with.")
    latest, _tag = max(releases)
    commit = project.commit or ""
    described = _DESCRIBE.match(commit)
    try:
        current: Version | None = parse_version(described["tag"] if described else commit)
    except UsageError:
        current = None
    behind = current is None or current < latest
    return CheckResult(
        project=project.root,
        source=project.src_path,
        current=commit or "unversioned",
        latest=str(latest),
        behind=behind,
    )
