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
_DESCRIBE_SHA = re.compile(r"(?:^|-g)(?P<sha>[0-9a-f]{7,40})$")


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
    notes: list[str] = field(default_factory=list)
    """What else the team should know (e.g. a fork's commits after its newest release)."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "project": str(self.project),
            "source": self.source,
            "current": self.current,
            "latest": self.latest,
            "behind": self.behind,
            "update_in_progress": self.update_in_progress,
            "notes": self.notes,
            "changes": [{"version": entry.version, "text": entry.text} for entry in self.changes],
        }


def read_changelog(path: Path) -> list[ChangelogEntry]:
    """The entries of a changelog whose sections are headed ``## 0.2.0`` (or ``## [v0.2.0]``)."""
    return parse_changelog(path.read_text(encoding="utf-8"))


def parse_changelog(text: str) -> list[ChangelogEntry]:
    """The entries of a changelog's *text* (see :func:`read_changelog`)."""
    entries: list[ChangelogEntry] = []
    version: str | None = None
    lines: list[str] = []

    def close() -> None:
        if version is not None:
            entries.append(ChangelogEntry(version, "\n".join(lines).strip()))

    for line in text.splitlines():
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
    return _check(project, installed)


def _check(project: Project, installed: Installed | None = None) -> CheckResult:
    path = project.root
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
    from apiforge.project import ProjectGit

    try:
        git = ProjectGit.of(root)
    except UserError:  # no git: no merge either
        return False
    if git is None or not git.ok("rev-parse", "--quiet", "--verify", "MERGE_HEAD"):
        return False
    template = git.refs.template
    merging = git.run("rev-parse", "MERGE_HEAD").strip()
    return (
        git.ok("rev-parse", "--quiet", "--verify", template)
        and merging == git.run("rev-parse", template).strip()
    )


def _check_other(project: Project) -> CheckResult:
    """Compare a project of another template with that template's newest version.

    A fork's versions are its release tags (``v1.2.0`` or ``1.2.0``; pre-releases
    are skipped), as for apiforge's own template; `apiforge update` renders the newest.
    A fork without release tags is versioned by commits: its default branch's newest
    commit is the latest version.
    """
    from apiforge.git import Git

    location = project.template_location()
    git = Git(project.root)
    listed = git.attempt("ls-remote", location, "HEAD", "refs/tags/*")
    if listed.returncode != 0:
        reason = (listed.stderr.strip().splitlines() or ["not a git repository"])[-1]
        raise UsageError(f"Cannot list the versions of the template {location}: {reason}")
    head, tags = _refs(listed.stdout)
    releases = sorted((version, tag) for tag in tags if (version := _release(tag)) is not None)
    commit = project.commit or ""
    if not releases:
        recorded = _DESCRIBE_SHA.search(commit)
        sha = recorded["sha"] if recorded else commit
        return CheckResult(
            project=project.root,
            source=project.src_path,
            current=commit or "unversioned",
            latest=head[: max(len(sha), 7)],
            behind=not (sha and head.startswith(sha)),
            notes=[f"{location} has no release tags; its versions are its commits."],
        )
    latest, tag = releases[-1]
    described = _DESCRIBE.match(commit)
    current = _release(described["tag"] if described else commit)
    behind = current is None or current < latest
    notes = []
    if head and head != tags[tag]:
        notes.append(f"{location} has commits after its newest release {tag}; updates take {tag}.")
    changes: list[ChangelogEntry] = []
    folder = Path(location)
    if behind and current is not None and (folder / ".git").exists():
        shown = Git(folder).attempt("show", f"{tag}:CHANGELOG.md")
        if shown.returncode == 0:
            changes = changes_between(parse_changelog(shown.stdout), current, latest)
    return CheckResult(
        project=project.root,
        source=project.src_path,
        current=str(current) if current is not None else commit or "unversioned",
        latest=str(latest),
        behind=behind,
        changes=changes,
        notes=notes,
    )


def _refs(listing: str) -> tuple[str, dict[str, str]]:
    """HEAD's commit and each tag's commit (annotated tags peeled) from `git ls-remote`."""
    head = ""
    tags: dict[str, str] = {}
    for line in listing.splitlines():
        sha, _, ref = line.partition("\t")
        if ref == "HEAD":
            head = sha
        elif ref.startswith("refs/tags/"):
            name = ref.removeprefix("refs/tags/")
            if name.endswith("^{}"):
                tags[name.removesuffix("^{}")] = sha
            else:
                tags.setdefault(name, sha)
    return head, tags


def _release(tag: str) -> Version | None:
    """The release a tag names (``v1.2.0``), or None for other tags and pre-releases."""
    from packaging.version import InvalidVersion, Version

    try:
        version = Version(tag.strip().removeprefix("v").removeprefix("V"))
    except InvalidVersion:
        return None
    return None if version.is_prerelease else version
