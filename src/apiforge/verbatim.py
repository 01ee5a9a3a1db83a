"""Give copier only the part of a template that needs it.

Copier renders every name in a template as a Jinja template, part by part and several
times over, and for every file it writes it builds a render context and runs git once
(to carry an executable bit into a git index). For a template whose names are mostly
plain, that is most of what rendering costs. :func:`split_template` divides a template
folder three ways and yields a copy of it for copier holding only what needs copier:

- a file whose path has no Jinja syntax and no templates suffix, that no exclusion
  pattern matches and that has no templated sibling comes out of copier byte for byte,
  with its mode: apiforge copies it itself;
- a file with a plain path and the templates suffix (``README.md.jinja``) is rendered by
  copier together with the others like it, as one template with each file's text in a
  ``{% with %}`` scope of its own, and apiforge cuts the result back into files;
- everything else (a name with Jinja syntax, whatever an exclusion might match, the
  answers file) is copier's, as it is.

A template using something this cannot vouch for (Jinja extensions, tasks, symlinks,
whitespace options, blocks, includes that depend on which files exist...) is not split,
and :func:`apiforge.render.copy_template` renders the whole template again when a split
render fails, so that copier's own error is the one shown.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import stat
import tempfile
import unicodedata
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from apiforge.errors import UsageError
from apiforge.template import load_config

__all__ = ["Split", "SplitError", "split_template"]

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

_UNBUNDLED_ENVOPS = (
    "trim_blocks",
    "lstrip_blocks",
    "autoescape",
    "line_statement_prefix",
    "line_comment_prefix",
)
"""Jinja options under which a file renders differently inside another template (they act
on the whitespace around tags, or depend on the template's name)."""

_PLAIN_PATH = re.compile(r"/[\w/.+-]*", re.ASCII)
"""Paths written the same way as they are, in YAML, in JSON and in a shell: the template
folder copier records (`_src_path`) is put back in what it rendered only when both it and
the copy's path look like this."""

_CHOICE_OF_FILES = re.compile(rb"ignore\s+missing|\b(?:include|import|extends|from)\s*\[")
"""Jinja that loads whichever of several files exists, or none: a template that uses it
renders differently without the files set apart, so it is not split."""


class SplitError(Exception):
    """A split render did not come out as planned; the whole template renders instead."""


class _Unsupported(Exception):
    """The template uses something the split cannot vouch for."""


@dataclass(frozen=True)
class Split:
    """A template split for rendering: what copier renders, and what apiforge does."""

    folder: Path
    """A copy of the template with what needs copier: what copier renders."""
    source: Path
    """The original template's folder (its ``_subdirectory``)."""
    files: tuple[str, ...]
    """The files copied as they are, relative to ``source`` (and to the project)."""
    folders: tuple[str, ...]
    """The folders made as they are, relative to ``source``, empty ones included."""
    recorded: str
    """The template folder as copier would have recorded it (``_src_path``)."""
    bundled: tuple[tuple[str, str], ...] = ()
    """The templated files rendered as one, in order: (template file, project file)."""
    bundle: str = ""
    """What copier writes for them into the project (removed again)."""
    separator: str = ""
    """What follows each file's text in the bundle."""
    modes: Mapping[str, int] = field(default_factory=dict)
    """The permission bits of the files copied and bundled, by template file."""

    def finish(self, dest: Path) -> None:
        """Complete copier's render of ``folder`` in *dest* as copier would have rendered the
        whole template: the original folder where copier wrote the copy's, the bundle cut
        into its files, then the files copied as they are, each with its template file's
        mode.

        Raises SplitError when the bundle does not hold the files it should, or when a file
        comes out of two names (copier's order would decide which one the project gets).
        """
        for folder in self.folders:
            (dest / folder).mkdir(parents=True, exist_ok=True)
        written = _files_below(dest)
        for name in written - {self.bundle}:
            content = (dest / name).read_bytes()
            if self._copy_path in content:
                (dest / name).write_bytes(self._put_back(content))
        taken = written | self._unbundle(dest, written)
        for name in self.files:
            if name in taken:
                raise SplitError(f"{name} was rendered from another name as well")
            shutil.copyfile(self.source / name, dest / name)
            self._take_mode(dest / name, name)

    @property
    def _copy_path(self) -> bytes:
        return str(self.folder).encode()

    def _put_back(self, content: bytes) -> bytes:
        """*content* with the original template folder where copier wrote the copy's."""
        return content.replace(self._copy_path, self.recorded.encode())

    def _unbundle(self, dest: Path, written: set[str]) -> set[str]:
        """Cut the bundle copier rendered into the files; the project files it wrote."""
        if not self.bundled:
            return set()
        if self.bundle not in written:
            raise SplitError(f"copier wrote no {self.bundle}")
        output = dest / self.bundle
        pieces = self._put_back(output.read_bytes()).split(self.separator.encode())
        if len(pieces) != len(self.bundled) + 1 or pieces[-1]:
            raise SplitError(
                f"{self.bundle} holds {len(pieces) - 1} files, not {len(self.bundled)}"
            )
        output.unlink()
        for (name, target), content in zip(self.bundled, pieces, strict=False):
            if target in written:
                raise SplitError(f"{target} was rendered from another name as well")
            (dest / target).write_bytes(content)
            self._take_mode(dest / target, name)
        return {target for _, target in self.bundled}

    def _take_mode(self, path: Path, name: str) -> None:
        """Give *path* the mode of the template file *name*, as copier does."""
        with suppress(PermissionError):  # as copier: some file systems refuse chmod
            path.chmod(self.modes[name])


def _files_below(folder: Path) -> set[str]:
    """The files below *folder*, relative to it."""
    found: set[str] = set()
    for directory, _folders, files in os.walk(folder):
        base = Path(directory).relative_to(folder)
        found.update((base / name).as_posix() for name in files)
    return found


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
        except (_Unsupported, OSError, UnicodeError):
            yield None
            return
        yield Split(
            folder=folder,
            source=plan.copy_root,
            files=tuple(path.as_posix() for path in plan.files),
            folders=tuple(path.as_posix() for path in plan.folders),
            recorded=src,
            bundled=tuple(
                (path.as_posix(), path.with_suffix("").as_posix()) for path in plan.bundled
            ),
            bundle=plan.bundle_name,
            separator=plan.separator,
            modes=plan.modes,
        )


@dataclass
class _Plan:
    root: Path
    copy_root: Path
    rules: _Rules
    files: list[PurePosixPath] = field(default_factory=list)
    folders: list[PurePosixPath] = field(default_factory=list)
    bundled: list[PurePosixPath] = field(default_factory=list)
    """Templated files with plain names, rendered by copier as one."""
    rendered: list[PurePosixPath] = field(default_factory=list)
    """Files and folders (with all below them) left to copier as they are."""
    token: str = field(default_factory=lambda: secrets.token_hex(12))
    modes: dict[str, int] = field(default_factory=dict)
    """The permission bits of the files copied and bundled."""

    @property
    def bundle_name(self) -> str:
        return f".apiforge-bundle-{self.token}" if self.bundled else ""

    @property
    def separator(self) -> str:
        return f"\x1eapiforge-bundle-{self.token}\x1e" if self.bundled else ""

    def build(self, folder: Path) -> None:
        """Write the copy of the template copier renders into *folder*."""
        folder.mkdir()
        lean_root = folder / self.copy_root.relative_to(self.root)
        if lean_root != folder:
            # Outside the _subdirectory: copier.yml and whatever files templates include.
            for entry in os.scandir(self.root):
                if entry.is_file(follow_symlinks=False):
                    _link_or_copy(entry.path, folder / entry.name)
        lean_root.mkdir(parents=True, exist_ok=True)
        for path in self.rendered:
            source = self.copy_root / path
            target = lean_root / path
            target.parent.mkdir(parents=True, exist_ok=True)
            if source.is_dir():
                shutil.copytree(source, target, copy_function=_link_or_copy)
            else:
                _link_or_copy(source, target)
        if self.bundled:
            wrap = self.rules.scope
            assert wrap is not None
            texts = (
                f"{wrap[0]}{(self.copy_root / path).read_text(encoding='utf-8')}{wrap[1]}"
                for path in self.bundled
            )
            bundle = lean_root / f"{self.bundle_name}{self.rules.suffix}"
            bundle.write_text("".join(f"{text}{self.separator}" for text in texts), "utf-8")
        starts = [marker.encode() for marker in self.rules.statements]
        for copied in folder.rglob("*"):
            if not copied.is_file():
                continue
            content = copied.read_bytes()
            if any(start in content for start in starts) and _CHOICE_OF_FILES.search(content):
                raise _Unsupported(copied)


def _link_or_copy(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
    """Hard-link *source* at *target*, or copy it with its mode where the two are on different
    file systems. Only for the copy copier renders, which nothing writes to."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _plan(src: str) -> _Plan | None:
    root = Path(src)
    if not (root.is_absolute() and _PLAIN_PATH.fullmatch(src) and root.is_dir()):
        return None
    if str(root.resolve()) != src or (root / ".git").exists():
        return None  # copier records the resolved path as well; it clones a repository
    if (root / "copier.yml").exists() and (root / "copier.yaml").exists():
        return None
    rules = _Rules.read(load_config(root))
    copy_root = (root / rules.subdirectory).resolve()
    if not copy_root.is_relative_to(root) or not copy_root.is_dir():
        return None
    plan = _Plan(root, copy_root, rules)
    _walk(copy_root, None, plan)
    if plan.bundled and rules.excluded(plan.bundle_name):
        plan.rendered.extend(plan.bundled)
        plan.bundled.clear()
    return plan


def _walk(directory: Path, parent: PurePosixPath | None, plan: _Plan) -> None:
    """Sort what is below *directory* (with all above it copied as it is): copied as it is,
    bundled, or left to copier."""
    for entry in sorted(os.scandir(directory), key=lambda entry: entry.name):
        path = parent / entry.name if parent else PurePosixPath(entry.name)
        if entry.is_symlink():
            raise _Unsupported(path)
        is_dir = entry.is_dir(follow_symlinks=False)
        if not is_dir and not entry.is_file(follow_symlinks=False):
            raise _Unsupported(path)
        if plan.rules.as_is(path, plan):
            if is_dir:
                plan.folders.append(path)
                _walk(Path(entry.path), path, plan)
            else:
                plan.files.append(path)
                plan.modes[path.as_posix()] = stat.S_IMODE(entry.stat().st_mode)
        elif not is_dir and plan.rules.bundles(path, plan):
            plan.bundled.append(path)
            plan.modes[path.as_posix()] = stat.S_IMODE(entry.stat().st_mode)
        else:
            plan.rendered.append(path)
            if is_dir:
                _check_below(Path(entry.path))


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
    scope: tuple[str, str] | None
    """The ``{% with %}`` and ``{% endwith %}`` that give each bundled file a scope of its
    own; None when the template's Jinja options keep files from being bundled."""
    unbundled: re.Pattern[str] | None
    """Jinja in a file's text that keeps it from being bundled: blocks, `extends`, `self`."""

    @classmethod
    def read(cls, config: Mapping[str, Any]) -> _Rules:
        if any(config.get(key) for key in _UNSUPPORTED_SETTINGS):
            raise _Unsupported("settings")
        envops = config.get("_envops") or {}
        if not isinstance(envops, Mapping):
            raise _Unsupported("_envops")
        delimiters = {
            key: envops.get(key, default)
            for key, default in (
                ("block_start_string", "{%"),
                ("block_end_string", "%}"),
                ("variable_start_string", "{{"),
                ("variable_end_string", "}}"),
                ("comment_start_string", "{#"),
                ("line_statement_prefix", None),
                ("line_comment_prefix", None),
            )
        }
        starts = ("block_start_string", "variable_start_string", "comment_start_string")
        markers = tuple(
            _text(delimiters[key])
            for key in (*starts, "line_statement_prefix", "line_comment_prefix")
            if delimiters[key] is not None
        )
        statements = tuple(
            _text(delimiters[key])
            for key in ("block_start_string", "line_statement_prefix")
            if delimiters[key] is not None
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
        block, end = _text(delimiters["block_start_string"]), _text(delimiters["block_end_string"])
        bundles = envops.get("keep_trailing_newline", True) is True and not any(
            envops.get(key) for key in _UNBUNDLED_ENVOPS
        )
        opening = (block, _text(delimiters["variable_start_string"]))
        closing = (end, _text(delimiters["variable_end_string"]))
        return cls(
            subdirectory=subdirectory,
            suffix=suffix,
            answers_file=answers_file,
            markers=markers,
            statements=statements,
            excluded=_matcher([*patterns, *_DEFAULT_EXCLUDE]),
            scope=(f"{block} with {end}", f"{block} endwith {end}") if bundles else None,
            unbundled=re.compile(
                rf"{re.escape(block)}[-+]?\s*(?:extends|block)\b"
                rf"|(?:{'|'.join(map(re.escape, opening))})"
                rf"(?:(?!{'|'.join(map(re.escape, closing))}).)*?\bself\b",
                re.DOTALL,
            ),
        )

    def as_is(self, path: PurePosixPath, plan: _Plan) -> bool:
        """Whether copier would write *path* (all above it being so) as it is."""
        name = path.name
        if any(marker in name for marker in self.markers) or name.endswith(self.suffix):
            return False
        return self._plain_target(path) and not self._shadowed(path, plan)

    def bundles(self, path: PurePosixPath, plan: _Plan) -> bool:
        """Whether the file *path* (all above it being copied as it is) is a template with a
        plain name that renders the same inside the bundle as on its own."""
        name = path.name
        if self.scope is None or self.unbundled is None or path.suffix != self.suffix:
            return False
        if any(marker in name for marker in self.markers) or self.excluded(path.as_posix()):
            return False
        target = path.with_suffix("")
        if not self._plain_target(target) or self._shadowed(path, plan):
            return False
        if os.path.lexists(plan.copy_root / target):
            return False  # a plain file it shadows: copier needs both to skip that one
        try:
            text = (plan.copy_root / path).read_text(encoding="utf-8")
        except (OSError, UnicodeError):
            return False
        return not self.unbundled.search(text)

    def _plain_target(self, path: PurePosixPath) -> bool:
        """Whether copier writes to *path* without excluding it or reading it as the answers
        file."""
        text = path.as_posix()
        if path.name == self.answers_file:
            return False
        # Also as a folder ("name/"), for patterns that match folders only.
        return not (self.excluded(text) or self.excluded(f"{text}/"))

    def _shadowed(self, path: PurePosixPath, plan: _Plan) -> bool:
        """Whether copier skips *path* for a templated sibling of the same name, which it
        looks for in the _subdirectory and, for the rendered name, in the template's root."""
        name = f"{path.as_posix()}{self.suffix}"
        if os.path.lexists(plan.copy_root / name):
            return True
        beside = plan.root / name
        if plan.root == plan.copy_root or not os.path.lexists(beside):
            return False
        if beside.parent != plan.root or beside.is_symlink() or not beside.is_file():
            raise _Unsupported(beside)  # the copy for copier holds only the root's own files
        return True


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise _Unsupported(repr(value))
    return value


def _matcher(patterns: list[str]) -> Callable[[str], bool]:
    """Whether a path may be excluded by *patterns*, read as copier reads them: gitignore
    style with pathspec 1.0 and later, git's wildmatch before. Negated patterns are left
    out, since they only ever take a path back in; paths are tried as written and in the
    decomposed form copier gives the patterns."""
    import pathspec

    lines = sorted(
        {
            form
            for pattern in patterns
            if pattern.strip() and not pattern.startswith("!")
            for form in (pattern, unicodedata.normalize("NFD", pattern))
        }
    )
    major = pathspec.__version__.partition(".")[0]
    style = "gitignore" if major.isdigit() and int(major) >= 1 else "gitwildmatch"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pathspec 1.x deprecates "gitwildmatch"
        spec = pathspec.PathSpec.from_lines(style, lines)

    def excluded(path: str) -> bool:
        return spec.match_file(path) or (
            not path.isascii() and spec.match_file(unicodedata.normalize("NFD", path))
        )

    return excluded
