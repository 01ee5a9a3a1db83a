"""Set apart the files of a template that copier would copy as they are.

Copier renders every name in a template as a Jinja template, part by part and several
times over, and runs git once for every file it writes (to carry an executable bit into
a git index). For a template whose files are mostly plain, that is most of what
rendering costs. Yet a file whose path has no Jinja syntax and no templates suffix,
that no exclusion pattern matches and that has no templated sibling comes out byte for
byte, with its mode. :func:`split_template` sets such files apart, so that apiforge
copies them itself, and yields a copy of the template without them for copier.

Copier stays the judge of everything else: every name with Jinja syntax, every file it
renders, the answers file, and whatever an exclusion pattern might leave out. A template
that uses something the split cannot vouch for (Jinja extensions, tasks, symlinks,
includes that depend on which files exist...) is not split at all.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import tempfile
import unicodedata
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from apiforge.errors import UsageError
from apiforge.template import load_config

__all__ = ["Split", "split_template"]

_DEFAULT_EXCLUDE = (
    "copier.yaml",
    "copier.yml",
    "~*",
    "*.py[co]",
    "__pycache__",
    ".git",
    ".DS_Store",
    ".svn",
)
"""Copier's exclusions for a template that sets no `_exclude`. The split treats them as
excluded in every template: a file it wrongly thinks excluded is merely left to copier."""

_DEFAULT_SUFFIX = ".jinja"
_DEFAULT_ANSWERS_FILE = ".copier-answers.yml"

_UNSUPPORTED_SETTINGS = ("_jinja_extensions", "_tasks", "_external_data", "_preserve_symlinks")
"""Settings under which a template is rendered by copier alone: extensions may rewrite
any name, tasks and external data read the project while copier renders it."""

_PLAIN_PATH = re.compile(r"/[\w/.+-]*", re.ASCII)
"""Paths written the same way as they are, in YAML, in JSON and in a shell: the template
folder copier records (`_src_path`) is put back in what it rendered only when both it and
the copy's path look like this."""

_CHOICE_OF_FILES = re.compile(rb"ignore\s+missing|\b(?:include|import|extends|from)\s*\[")
"""Jinja that loads whichever of several files exists, or none: a template that uses it
renders differently without the files set apart, so it is not split."""


class _Unsupported(Exception):
    """The template uses something the split cannot vouch for."""


@dataclass(frozen=True)
class Split:
    """A template split in two: what copier renders, and the files apiforge copies."""

    folder: Path
    """A copy of the template without the files set apart: what copier renders."""
    source: Path
    """The original template's folder (its ``_subdirectory``) holding those files."""
    files: tuple[str, ...]
    """The files copied as they are, relative to ``source`` (and to the project)."""
    folders: tuple[str, ...]
    """The folders made as they are, relative to ``source``, empty ones included."""
    recorded: str
    """The template folder as copier would have recorded it (``_src_path``)."""

    def finish(self, dest: Path) -> None:
        """Complete copier's render of ``folder`` in *dest* as copier would have rendered the
        whole template: the original folder where copier wrote the copy's, then the files
        set apart, with their mode."""
        copy = str(self.folder).encode()
        original = self.recorded.encode()
        for path in sorted(dest.rglob("*")):
            if path.is_file() and not path.is_symlink():
                content = path.read_bytes()
                if copy in content:
                    path.write_bytes(content.replace(copy, original))
        for folder in self.folders:
            (dest / folder).mkdir(parents=True, exist_ok=True)
        for name in self.files:
            target = dest / name
            if target.exists():
                continue  # a rendered name came out the same: copier's order decides; keep it
            source = self.source / name
            shutil.copyfile(source, target)
            mode = stat.S_IMODE(source.stat().st_mode)
            if stat.S_IMODE(target.stat().st_mode) != mode:
                with suppress(PermissionError):  # as copier: some file systems refuse chmod
                    target.chmod(mode)


@contextmanager
def split_template(src: str) -> Iterator[Split | None]:
    """Split the template folder *src* (as copier would be given it); None when it is not
    split: a git URL or repository (copier clones those), or a template using something
    the split cannot vouch for. The copy lasts as long as the context."""
    try:
        plan = _plan(src)
    except (_Unsupported, UsageError, OSError, UnicodeError):
        plan = None
    if plan is None:
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="apiforge-render-") as tmp:
        folder = Path(tmp).resolve() / "template"
        if not _PLAIN_PATH.fullmatch(str(folder)):
            yield None
            return
        try:
            plan.build(folder)
        except _Unsupported:
            yield None
            return
        yield Split(
            folder=folder,
            source=plan.copy_root,
            files=tuple(path.as_posix() for path in plan.files),
            folders=tuple(path.as_posix() for path in plan.folders),
            recorded=src,
        )


def link_or_copy(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
    """Hard-link *source* at *target*, or copy it with its mode where the two are on different
    file systems. Only for the copy copier renders, which nothing writes to."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


@dataclass
class _Plan:
    root: Path
    copy_root: Path
    files: list[PurePosixPath]
    folders: list[PurePosixPath]
    rendered: list[PurePosixPath]
    """Files and folders (with all below them) left to copier."""
    statements: tuple[str, ...]
    """What starts a Jinja statement (an include among them) in this template."""

    def build(self, folder: Path) -> None:
        """Write the template without the files set apart into *folder*."""
        folder.mkdir()
        lean_root = folder / self.copy_root.relative_to(self.root)
        if lean_root != folder:
            # Outside the _subdirectory: copier.yml and whatever files templates include.
            for entry in os.scandir(self.root):
                if entry.is_file(follow_symlinks=False):
                    link_or_copy(entry.path, folder / entry.name)
        lean_root.mkdir(parents=True, exist_ok=True)
        for path in self.rendered:
            source = self.copy_root / path
            target = lean_root / path
            target.parent.mkdir(parents=True, exist_ok=True)
            if source.is_dir():
                shutil.copytree(source, target, copy_function=link_or_copy)
            else:
                link_or_copy(source, target)
        starts = [marker.encode() for marker in self.statements]
        for copied in folder.rglob("*"):
            if not copied.is_file():
                continue
            content = copied.read_bytes()
            if any(start in content for start in starts) and _CHOICE_OF_FILES.search(content):
                raise _Unsupported(copied)


def _plan(src: str) -> _Plan | None:
    root = Path(src)
    if not (root.is_absolute() and _PLAIN_PATH.fullmatch(src) and root.is_dir()):
        return None
    if str(root.resolve()) != src or (root / ".git").exists():
        return None  # copier records the resolved path as well; it clones a repository
    if (root / "copier.yml").exists() and (root / "copier.yaml").exists():
        return None
    config = load_config(root)
    rules = _Rules.read(config)
    copy_root = (root / rules.subdirectory).resolve()
    if not copy_root.is_relative_to(root) or not copy_root.is_dir():
        return None
    plan = _Plan(root, copy_root, [], [], [], rules.statements)
    _walk(copy_root, None, rules, plan)
    return plan


def _walk(directory: Path, parent: PurePosixPath | None, rules: _Rules, plan: _Plan) -> None:
    """Sort what is below *directory* (with all above it copied as it is) into files and
    folders copied as they are and those left to copier."""
    for entry in sorted(os.scandir(directory), key=lambda entry: entry.name):
        path = parent / entry.name if parent else PurePosixPath(entry.name)
        if entry.is_symlink():
            raise _Unsupported(path)
        is_dir = entry.is_dir(follow_symlinks=False)
        if not is_dir and not entry.is_file(follow_symlinks=False):
            raise _Unsupported(path)
        if not rules.as_is(path, plan):
            plan.rendered.append(path)
            if is_dir:
                _check_below(Path(entry.path))
        elif is_dir:
            plan.folders.append(path)
            _walk(Path(entry.path), path, rules, plan)
        else:
            plan.files.append(path)


def _check_below(directory: Path) -> None:
    """Refuse a folder left to copier that holds a symlink (copier follows it, or refuses it
    when it leads out of the template; a copy would not)."""
    for entry in os.scandir(directory):
        if entry.is_symlink():
            raise _Unsupported(entry.path)
        if entry.is_dir(follow_symlinks=False):
            _check_below(Path(entry.path))


@dataclass(frozen=True)
class _Rules:
    """What of copier.yml decides how copier treats a name."""

    subdirectory: str
    suffix: str
    answers_file: str
    markers: tuple[str, ...]
    """What starts Jinja syntax in this template's environment."""
    statements: tuple[str, ...]
    """What of ``markers`` starts a statement."""
    excluded: Callable[[str], bool]
    """True for a path that copier might exclude (a superset of what it does exclude)."""

    @classmethod
    def read(cls, config: Mapping[str, Any]) -> _Rules:
        if any(config.get(key) for key in _UNSUPPORTED_SETTINGS):
            raise _Unsupported("settings")
        envops = config.get("_envops") or {}
        if not isinstance(envops, Mapping):
            raise _Unsupported("_envops")
        starts = {
            key: envops.get(key, default)
            for key, default in (
                ("block_start_string", "{%"),
                ("variable_start_string", "{{"),
                ("comment_start_string", "{#"),
                ("line_statement_prefix", None),
                ("line_comment_prefix", None),
            )
        }
        markers = tuple(_text(start) for start in starts.values() if start is not None)
        statements = tuple(
            _text(starts[key])
            for key in ("block_start_string", "line_statement_prefix")
            if starts[key] is not None
        )
        if not all(markers):
            raise _Unsupported("_envops")
        suffix = config.get("_templates_suffix")
        suffix = _DEFAULT_SUFFIX if suffix is None else _text(suffix)
        answers_file = _text(config.get("_answers_file") or _DEFAULT_ANSWERS_FILE)
        subdirectory = _text(config.get("_subdirectory") or "")
        exclude = config.get("_exclude", ())
        if not isinstance(exclude, list | tuple):
            raise _Unsupported("_exclude")
        patterns = [_text(pattern) for pattern in exclude]
        plain = [suffix, answers_file, subdirectory, *patterns]
        if not suffix or any(marker in text for text in plain for marker in markers):
            raise _Unsupported("Jinja in settings")
        return cls(
            subdirectory=subdirectory,
            suffix=suffix,
            answers_file=answers_file,
            markers=markers,
            statements=statements,
            excluded=_matcher([*patterns, *_DEFAULT_EXCLUDE]),
        )

    def as_is(self, path: PurePosixPath, plan: _Plan) -> bool:
        """Whether copier would write *path* (all above it being so) as it is."""
        name = path.name
        text = path.as_posix()
        if any(marker in name for marker in self.markers) or name.endswith(self.suffix):
            return False
        if name == self.answers_file or self.excluded(text) or self.excluded(f"{text}/"):
            return False
        # Copier skips a file or folder beside a templated one of the same name, looking
        # in the _subdirectory and, for the rendered name, in the template's root too.
        return not any(
            os.path.lexists(base / f"{text}{self.suffix}") for base in (plan.copy_root, plan.root)
        )


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise _Unsupported(repr(value))
    return value


def _matcher(patterns: list[str]) -> Callable[[str], bool]:
    """Whether a path may be excluded by *patterns*, read as copier reads them (gitignore
    style) or as older copiers did; negated patterns are left out, since they only ever
    take a path back in."""
    from pathspec import PathSpec

    lines = sorted(
        {
            form
            for pattern in patterns
            if pattern.strip() and not pattern.startswith("!")
            for form in (pattern, unicodedata.normalize("NFD", pattern))
        }
    )
    specs = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pathspec 1.x deprecates the older style
        for style in ("gitignore", "gitwildmatch"):
            with suppress(LookupError):
                specs.append(PathSpec.from_lines(style, lines))
    if not specs:
        raise _Unsupported("pathspec")

    def excluded(path: str) -> bool:
        forms = {path, unicodedata.normalize("NFD", path)}
        return any(spec.match_file(form) for spec in specs for form in forms)

    return excluded
