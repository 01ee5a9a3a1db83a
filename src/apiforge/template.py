"""The template: where it comes from, what its copier.yml says, and how copier reads it.

This is the one module that knows copier's file format: the settings and
questions of `copier.yml` (types, choices, `when:`, defaults, validators), how
copier casts an answer to a question's type, the Jinja environment it renders
copier.yml's expressions with, and how a template folder is handed to copier.
Every command reads its template through :class:`Template`.

Reading the questions needs YAML only; Jinja and git are imported when a function
needs them, so that `apiforge --help` and `apiforge new --help` stay fast.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from apiforge import __version__
from apiforge.errors import UsageError

if TYPE_CHECKING:
    from jinja2 import Environment

__all__ = [
    "BUNDLED_SOURCE",
    "MANAGED_ANSWERS",
    "Choice",
    "Question",
    "Template",
    "TemplateSource",
    "bundled_template_dir",
    "cast_answer",
    "export_template",
    "load_config",
    "load_questions",
    "staged_template",
    "template_environment",
    "truthy",
]

BUNDLED_SOURCE = "https://github.com/apiforge/apiforge.git"
"""What projects rendered from apiforge's own template record as their source.

It is the template repository, so plain `copier update` works wherever it is
reachable; apiforge itself renders the copy it ships, offline.
"""

MANAGED_ANSWERS: Mapping[str, str] = {"resources": "apiforge add resource"}
"""Answers apiforge keeps itself, with the command that changes each.

They are recorded like any other answer, but never asked, listed or taken from
--data: only their command writes them, after checking them.
"""

_PACKAGE_DIR = Path(__file__).resolve().parent

_GIT_URL = re.compile(r"^([a-z][a-z0-9+.-]*://|[\w.-]+@[\w.-]+:|gh:|gl:)", re.IGNORECASE)

_CONFIG_FILES = ("copier.yml", "copier.yaml")

_NOT_TEMPLATE = {".git", ".venv", "node_modules", ".mypy_cache", ".pytest_cache", ".ruff_cache"}
"""What staging leaves out of a template folder: git's own folder and local artefacts."""


# --- Questions -------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    """One answer that a choice question offers."""

    value: Any
    """As copier.yml writes it; :func:`cast_answer` gives it the question's type."""
    label: str
    """What copier shows at the terminal: the value itself when copier.yml gives no label."""
    validator: str = ""
    """Jinja that renders a message when the template refuses this choice."""

    @property
    def text(self) -> str:
        """The value as `--data` takes it and help lists it."""
        return str(self.value)


@dataclass(frozen=True)
class Question:
    """One question of a template's copier.yml."""

    name: str
    type: str
    """Copier's type (``str``, ``bool``, ``int``, ``float``, ``yaml``, ``json``, ``path``);
    without `type:`, the type of the default."""
    help: str
    default: Any
    """As written: a value, or Jinja that copier renders with the answers before it."""
    choices: tuple[str, ...]
    """The values a user may answer, as text: what `--data` takes and help lists."""
    asked: bool
    """False when copier.yml says `when: false`: copier never asks it."""
    when: Any = True
    """`when:` as written: a bool, or Jinja that copier renders with the answers before it."""
    validator: str = ""
    """Jinja that renders a message when the template refuses the answer."""
    multiselect: bool = False
    """Copier's `multiselect:`: the answer is a list of the choices."""
    options: tuple[Choice, ...] = ()
    """The choices with their values as written, labels and validators; made from
    ``choices`` when a question is built with those only."""

    def __post_init__(self) -> None:
        if self.choices and not self.options:
            object.__setattr__(self, "options", tuple(Choice(text, text) for text in self.choices))
        if not self.asked:
            object.__setattr__(self, "when", False)

    @property
    def managed(self) -> bool:
        """Kept by an apiforge command (see `MANAGED_ANSWERS`), not answered by users."""
        return self.name in MANAGED_ANSWERS

    @property
    def offered(self) -> bool:
        """Answered by users: asked and not managed. Help, the README and --data offer it."""
        return self.asked and not self.managed

    @property
    def choice_text(self) -> str:
        """The choices as a metavar: ``sqlite|postgresql``."""
        return "|".join(self.choices)


def _options(raw: Any) -> tuple[Choice, ...]:
    """Copier's `choices:`: a list of values or of ``[label, value]`` pairs, or a mapping
    of label to value; a value may be ``{value: ..., validator: ...}``."""
    if isinstance(raw, dict):
        pairs = list(raw.items())
    elif isinstance(raw, list):
        pairs = [
            (item[0], item[1]) if isinstance(item, list) and len(item) == 2 else (item, item)
            for item in raw
        ]
    else:
        return ()  # a Jinja string: copier renders it when it asks
    options = []
    for label, value in pairs:
        validator = ""
        if isinstance(value, dict) and "value" in value:
            validator = str(value.get("validator") or "")
            value = value["value"]
        options.append(Choice(value, str(label), validator))
    return tuple(options)


def _type_of(default: Any) -> str:
    """The type copier gives a question without `type:`: that of its default."""
    for kind in (bool, int, float):
        if isinstance(default, kind):
            return kind.__name__
    return "str"


def _question(name: str, spec: Any) -> Question:
    if not isinstance(spec, dict):
        spec = {"default": spec}
    options = _options(spec.get("choices"))
    when = spec.get("when", True)
    return Question(
        name=name,
        type=str(spec.get("type") or _type_of(spec.get("default"))),
        help=str(spec.get("help", "")).strip(),
        default=spec.get("default"),
        choices=tuple(option.text for option in options),
        asked=when is not False,
        when=when,
        validator=str(spec.get("validator") or ""),
        multiselect=bool(spec.get("multiselect")),
        options=options,
    )


def load_config(template_dir: Path) -> dict[str, Any]:
    """Read a template folder's `copier.yml` (or `copier.yaml`): settings and questions."""
    import yaml

    for name in _CONFIG_FILES:
        path = template_dir / name
        if path.is_file():
            break
    else:
        raise UsageError(f"{template_dir} has no copier.yml; is it a copier template?")
    try:
        # LibYAML's loader when PyYAML has it: the same YAML, read ten times faster.
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        config = yaml.load(path.read_text(encoding="utf-8"), Loader=loader) or {}
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"Cannot read {path}: {exc}".splitlines()[0]) from exc
    except yaml.YAMLError as exc:
        raise UsageError(f"{path} is not valid YAML: {exc}".splitlines()[0]) from exc
    if not isinstance(config, dict):
        raise UsageError(f"{path} must hold a mapping of settings and questions.")
    return {str(key): value for key, value in config.items()}


def _questions(config: Mapping[str, Any]) -> list[Question]:
    return [_question(key, spec) for key, spec in config.items() if not key.startswith("_")]


def load_questions(template_dir: Path) -> list[Question]:
    """Read the questions from a template folder's `copier.yml` (or `copier.yaml`)."""
    return _questions(load_config(template_dir))


# --- Copier's casting and Jinja ---------------------------------------------------

_YES = frozenset({"y", "yes", "t", "true", "on"})
_NO = frozenset({"n", "no", "f", "false", "off", "~", "null", "none"})


def truthy(value: Any, *, strict: bool = False) -> bool:
    """Read *value* as yes or no the way copier does: as a number (0 is no), then as a
    YAML word (``yes``, ``off``, ``~``...; blank is no), then through Python's bool().

    With *strict*, a value that is neither a number nor such a word (``maybe``) raises
    ValueError instead of reaching bool(), so that a mistyped answer is refused rather
    than read as yes.
    """
    try:
        return bool(float(value))
    except (TypeError, ValueError):
        pass
    word = value.strip().lower() if isinstance(value, str) else None
    if word is not None and (word in _YES or word in _NO or not word):
        return word in _YES
    if strict:
        raise ValueError(f"{value!r} is neither yes nor no")
    return bool(value)


def cast_answer(question: Question, value: Any, *, strict: bool = False) -> Any:
    """Cast *value* to *question*'s type, as copier casts answers and rendered defaults.

    Yes/no takes :func:`truthy`; ``int`` and ``float`` go through int() and float();
    ``yaml`` and ``json`` text is parsed (and kept as it is when it does not parse).
    Raises TypeError or ValueError for a value that is not of the type. Without
    *strict* a None stays None (a question without a default); with *strict*, for an
    answer a user gave, yes/no is strict too (see :func:`truthy`).
    """
    if value is None and not strict:
        return None
    kind = question.type
    if kind == "bool":
        return truthy(value, strict=strict)
    if kind == "int":
        return int(value)
    if kind == "float":
        return float(value)
    if kind in {"str", "path"}:
        return str(value)
    if kind in {"yaml", "json"} and isinstance(value, str):
        import yaml

        try:
            return yaml.safe_load(value)
        except yaml.YAMLError:
            return value
    return value


def template_environment(config: Mapping[str, Any] | None = None) -> Environment:
    """A Jinja environment like copier's for a template's `copier.yml` settings.

    Copier renders with a sandboxed environment, the Ansible core filters
    (``regex_search``, ``to_nice_yaml``...), and the template's own
    ``_jinja_extensions`` and ``_envops``.
    """
    from jinja2 import StrictUndefined, Undefined
    from jinja2.sandbox import SandboxedEnvironment

    settings = config or {}
    extensions = [
        "jinja2_ansible_filters.AnsibleCoreFiltersExtension",
        *settings.get("_jinja_extensions", ()),
    ]
    envops = dict(settings.get("_envops") or {})
    undefined = envops.pop("undefined", None)
    if undefined is not None:
        classes = {"jinja2.Undefined": Undefined, "jinja2.StrictUndefined": StrictUndefined}
        if undefined not in classes:
            raise UsageError(f"copier.yml: _envops.undefined {undefined!r} is not supported.")
        envops["undefined"] = classes[undefined]
    try:
        return SandboxedEnvironment(extensions=extensions, **envops)
    except (ImportError, TypeError, AttributeError) as exc:
        raise UsageError(f"copier.yml: cannot load its Jinja settings ({exc}).") from exc


# --- Where templates come from ---------------------------------------------------


def bundled_template_dir() -> Path:
    """Return the folder holding the bundled `copier.yml` and `template/`.

    An installed wheel carries them in ``apiforge/_template``; a checkout of the
    repository has them at its root.
    """
    installed = _PACKAGE_DIR / "_template"
    if (installed / "copier.yml").is_file():
        return installed
    checkout = _PACKAGE_DIR.parent.parent
    if (checkout / "copier.yml").is_file():
        return checkout
    raise UsageError("apiforge's bundled template is missing; reinstall apiforge.")


@contextmanager
def staged_template(folder: Path) -> Iterator[Path]:
    """Yield *folder* as copier should read it, as it is on disk.

    Copier clones a folder that is the root of a git repository, which would render
    its last commit (plus a copy of uncommitted changes), and slowly. Such a folder,
    a checkout of apiforge among them, is copied into a temporary folder first:
    `copier.yml` and the `_subdirectory` holding the template, or, without one, the
    whole folder but `.git` and local caches. Any other folder is yielded as it is.
    """
    if not (folder / ".git").exists():
        yield folder
        return
    config = load_config(folder)
    subdirectory = str(config.get("_subdirectory") or "").strip("/")
    symlinks = bool(config.get("_preserve_symlinks"))
    with tempfile.TemporaryDirectory(prefix="apiforge-template-") as tmp:
        staged = Path(tmp).resolve() / "template"
        if subdirectory and "{" not in subdirectory:
            staged.mkdir()
            for name in _CONFIG_FILES:
                if (folder / name).is_file():
                    shutil.copy2(folder / name, staged / name)
            shutil.copytree(folder / subdirectory, staged / subdirectory, symlinks=symlinks)
        else:

            def ignore(directory: str, names: list[str]) -> set[str]:
                return _NOT_TEMPLATE & set(names) if Path(directory) == folder else set()

            shutil.copytree(folder, staged, symlinks=symlinks, ignore=ignore)
        yield staged


@contextmanager
def _cloned(url: str, *, history: bool = False) -> Iterator[Path]:
    """Clone a template's git repository once, without its history unless asked."""
    from apiforge.git import Git

    with tempfile.TemporaryDirectory(prefix="apiforge-template-") as tmp:
        clone = Path(tmp) / "template"
        depth = [] if history else ["--depth", "1"]
        completed = Git(Path(tmp)).attempt(
            "clone",
            "--quiet",
            *depth,
            url,
            str(clone),
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
        )
        if completed.returncode != 0:
            lines = completed.stderr.strip().splitlines() or [f"exit code {completed.returncode}"]
            raise UsageError(f"Cannot clone the template {url}: {lines[-1]}")
        if not history:
            shutil.rmtree(clone / ".git", ignore_errors=True)
        yield clone


@contextmanager
def _repository(location: str | None) -> Iterator[Path]:
    """The git repository of the template at *location*, with its history."""
    if location is None:
        folder = bundled_template_dir()
        if not (folder / ".git").exists():
            raise UsageError(
                "--from needs the template's git history, and this apiforge is installed "
                "without it; pass --template with a checkout or git URL of the template."
            )
        yield folder
        return
    source = TemplateSource.from_user(location)
    path = Path(source.location)
    if path.is_dir():
        if not (path / ".git").exists():
            raise UsageError(f"--from needs a git repository; {location} is a plain folder.")
        yield path
        return
    with _cloned(source.location, history=True) as clone:
        yield clone


def export_template(repository: Path, ref: str, dest: Path) -> Path:
    """Write the template as it is at *ref* of the git repository *repository* into *dest*.

    *dest* gets `copier.yml`, `template/` and, where the ref has one, `CHANGELOG.md`:
    a folder that renders exactly what that commit or tag would.
    """
    import io
    import tarfile

    from apiforge.git import Git

    git = Git(repository)
    if not git.ok("rev-parse", "--quiet", "--verify", f"{ref}^{{commit}}"):
        raise UsageError(
            f"{ref} is not a commit or tag of {repository} (a shallow clone may lack it: "
            "`git fetch --unshallow`)."
        )
    listed = git.run("ls-tree", "--name-only", ref).split()
    names = (*_CONFIG_FILES, "template", "CHANGELOG.md")
    wanted = [name for name in names if name in listed]
    if not set(_CONFIG_FILES) & set(wanted):
        raise UsageError(f"{ref} of {repository} has no copier.yml; is it a copier template?")
    archive = git.run_bytes("archive", "--format=tar", ref, "--", *wanted)
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(dest, filter="data")
    return dest


@dataclass(frozen=True)
class TemplateSource:
    """A template to render: apiforge's bundled one, a local folder or a git URL."""

    location: str
    ref: str | None = None

    @classmethod
    def bundled(cls) -> TemplateSource:
        return cls(BUNDLED_SOURCE, f"v{__version__}")

    @classmethod
    def from_user(cls, location: str, ref: str | None = None) -> TemplateSource:
        """A template named on the command line: a local folder or a git URL.

        A folder is recorded by its absolute path, so that the project's answers
        file points at it from anywhere. Something that looks like a path but is
        no folder is a usage error rather than a failed clone.
        """
        path = Path(location).expanduser()
        if path.is_dir():
            return cls(str(path.resolve()), ref)
        if not _GIT_URL.match(location):
            raise UsageError(
                f"The template {location} is neither a folder nor a git URL "
                "(https://..., ssh://..., git@host:path, file://...)."
            )
        return cls(location, ref)

    @property
    def is_bundled(self) -> bool:
        return self.location == BUNDLED_SOURCE

    def load(self) -> Template | None:
        """The template's settings and questions where they can be read without cloning:
        the bundled template or a local folder; None for a git URL (copier checks the
        answers itself when it renders)."""
        if self.is_bundled:
            return Template.load(bundled_template_dir(), name="apiforge")
        path = Path(self.location).expanduser()
        return Template.load(path, name=self.location) if path.is_dir() else None

    @contextmanager
    def open(self) -> Iterator[str]:
        """Yield the source as copier should read it.

        A local git repository with uncommitted changes is refused: copier would
        render the changes but record a commit without them, and the next update
        would take them out again.
        """
        if self.is_bundled:
            with staged_template(bundled_template_dir()) as folder:
                yield str(folder)
            return
        path = Path(self.location).expanduser()
        if (path / ".git").exists():
            _refuse_uncommitted(path)
        yield self.location


def _refuse_uncommitted(repository: Path) -> None:
    from apiforge.git import Git

    changed = Git(repository).run("status", "--porcelain", "--untracked-files=no").splitlines()
    if changed:
        more = f" and {len(changed) - 1} more" if len(changed) > 1 else ""
        raise UsageError(
            f"The template {repository} has uncommitted changes ({changed[0][3:]}{more}); "
            "commit them (projects record the commit they come from) or stash them first. "
            "`apiforge verify` tries a template as it is on disk."
        )


# --- The template ----------------------------------------------------------------


@dataclass(frozen=True)
class Template:
    """A template in a local folder and what its copier.yml says."""

    folder: Path
    config: Mapping[str, Any] = field(repr=False)
    """copier.yml as written: settings (``_subdirectory``, ``_envops``...) and questions."""
    questions: tuple[Question, ...] = field(repr=False)
    """In the order copier asks them."""
    name: str = ""
    """How the user named it (a folder or a git URL), or ``apiforge`` for the bundled one."""
    previous: Template | None = None
    """With :meth:`open`'s *from_ref*: the template as it was at that commit or tag."""

    @classmethod
    def load(cls, folder: Path, *, name: str | None = None) -> Template:
        """Read the template in *folder* (holding `copier.yml`)."""
        config = load_config(folder)
        return cls(folder, config, tuple(_questions(config)), name or str(folder))

    @classmethod
    @contextmanager
    def open(
        cls, location: str | None = None, *, from_ref: str | None = None, ref: str | None = None
    ) -> Iterator[Template]:
        """The template at *location* (a folder, a git URL, or None for apiforge's own) in a
        local folder that copier renders as it is, for as long as the context lasts.

        A git URL is cloned once; a folder under git is staged (see
        :func:`staged_template`), so that copier renders it as it is on disk rather
        than cloning it again for every render. With *ref*, the template is the one at
        that commit or tag of its repository; with *from_ref*, ``previous`` is.
        """
        with ExitStack() as stack:
            repository = None
            if from_ref is not None or ref is not None:
                repository = stack.enter_context(_repository(location))

            def exported(at: str) -> Path:
                assert repository is not None
                folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="apiforge-ref-"))
                return export_template(repository, at, Path(folder))

            previous = None
            if from_ref is not None:
                previous = cls.load(exported(from_ref), name=f"{location or 'apiforge'}@{from_ref}")
            if ref is not None:
                template = cls.load(exported(ref), name=f"{location or 'apiforge'}@{ref}")
                yield replace(template, previous=previous)
                return
            if location is None:
                folder = stack.enter_context(staged_template(bundled_template_dir()))
            else:
                source = TemplateSource.from_user(location)
                path = Path(source.location)
                staging = staged_template(path) if path.is_dir() else _cloned(source.location)
                folder = stack.enter_context(staging)
            template = cls.load(folder, name=location or "apiforge")
            yield replace(template, previous=previous)

    @property
    def source(self) -> TemplateSource:
        """The folder as a source to render."""
        return TemplateSource(str(self.folder))

    def question(self, name: str) -> Question | None:
        """The question called *name*, or None when the template does not ask it."""
        return next((question for question in self.questions if question.name == name), None)

    def check_answers(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """*data* checked against the questions and cast to their types (see
        :func:`apiforge.answers.check_answers`)."""
        from apiforge.answers import check_answers  # answers.py imports this module

        return check_answers(self.questions, data)

    def managed_defaults(self) -> dict[str, Any]:
        """The defaults of the managed answers the template has, so they are never asked."""
        return {
            question.name: question.default
            for question in self.questions
            if question.managed and question.asked
        }

    def environment(self) -> Environment:
        """A Jinja environment like the one copier renders this template's copier.yml with."""
        return template_environment(self.config)
