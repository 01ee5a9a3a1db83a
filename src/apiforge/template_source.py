"""Where templates come from and what their questions are.

Reading a template's questions only needs YAML, not copier or Jinja, so that
`apiforge --help` and `apiforge new --help` stay fast.
"""

from __future__ import annotations

import io
import shutil
import tarfile
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from apiforge.errors import UsageError

__all__ = [
    "MANAGED_ANSWERS",
    "Question",
    "bundled_template_dir",
    "choice_value",
    "describe_default",
    "export_template",
    "load_config",
    "load_questions",
    "questions_markdown",
    "staged_template",
]

MANAGED_ANSWERS: Mapping[str, str] = {"resources": "apiforge add resource"}
"""Answers apiforge keeps itself, with the command that changes each.

They are recorded like any other answer, but never asked, listed or taken from
--data: only their command writes them, after checking them.
"""

_PACKAGE_DIR = Path(__file__).resolve().parent


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
def staged_template(source: Path) -> Iterator[Path]:
    """Yield a folder with *source*'s `copier.yml` and `template/` as they are on disk.

    Copier clones a folder that is the root of a git repository, which would render
    the last commit plus a copy of uncommitted changes, and slowly. A checkout of
    apiforge is such a folder, so it is staged into a temporary one first.
    """
    if not (source / ".git").exists():
        yield source
        return
    with tempfile.TemporaryDirectory(prefix="apiforge-template-") as tmp:
        staged = Path(tmp)
        shutil.copy2(source / "copier.yml", staged / "copier.yml")
        shutil.copytree(source / "template", staged / "template")
        yield staged


def export_template(repository: Path, ref: str, dest: Path) -> Path:
    """Write the template as it is at *ref* of the git repository *repository* into *dest*.

    *dest* gets `copier.yml`, `template/` and, where the ref has one, `CHANGELOG.md`:
    a folder that renders exactly what that commit or tag would.
    """

    from apiforge.git import Git

    git = Git(repository)
    if not git.ok("rev-parse", "--quiet", "--verify", f"{ref}^{{commit}}"):
        raise UsageError(
            f"{ref} is not a commit or tag of {repository} (a shallow clone may lack it: "
            "`git fetch --unshallow`)."
        )
    listed = git.run("ls-tree", "--name-only", ref).split()
    names = ("copier.yml", "copier.yaml", "template", "CHANGELOG.md")
    wanted = [name for name in names if name in listed]
    if not {"copier.yml", "copier.yaml"} & set(wanted):
        raise UsageError(f"{ref} of {repository} has no copier.yml; is it a copier template?")
    archive = git.run_bytes("archive", "--format=tar", ref, "--", *wanted)
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(dest, filter="data")
    return dest


@dataclass(frozen=True)
class Question:
    """One question of a template's copier.yml, as far as apiforge needs it."""

    name: str
    type: str
    help: str
    default: Any
    choices: tuple[str, ...]
    asked: bool
    spec: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
    """The question's entry in copier.yml as written (``when``, ``validator``, ...)."""

    @property
    def managed(self) -> bool:
        """Kept by an apiforge command (see `MANAGED_ANSWERS`), not answered by users."""
        return self.name in MANAGED_ANSWERS

    @property
    def choice_text(self) -> str:
        return "|".join(self.choices)


def choice_value(raw: Any) -> Any:
    """The value of one choice: copier also accepts ``{value: ..., validator: ...}``."""
    if isinstance(raw, dict) and "value" in raw:
        return raw["value"]
    return raw


def _choices(raw: Any) -> tuple[str, ...]:
    if isinstance(raw, dict):
        return tuple(str(choice_value(value)) for value in raw.values())
    if isinstance(raw, list):
        return tuple(
            str(item[1]) if isinstance(item, list) and len(item) == 2 else str(item) for item in raw
        )
    return ()


def _type_of(default: Any) -> str:
    """The type copier gives a question without `type:`: that of its default."""
    for kind in (bool, int, float):
        if isinstance(default, kind):
            return kind.__name__
    return "str"


def load_config(template_dir: Path) -> dict[str, Any]:
    """Read a template folder's `copier.yml` (or `copier.yaml`): settings and questions."""
    import yaml

    for name in ("copier.yml", "copier.yaml"):
        path = template_dir / name
        if path.is_file():
            break
    else:
        raise UsageError(f"{template_dir} has no copier.yml; is it a copier template?")
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"Cannot read {path}: {exc}".splitlines()[0]) from exc
    except yaml.YAMLError as exc:
        raise UsageError(f"{path} is not valid YAML: {exc}".splitlines()[0]) from exc
    if not isinstance(config, dict):
        raise UsageError(f"{path} must hold a mapping of settings and questions.")
    return {str(key): value for key, value in config.items()}


def load_questions(template_dir: Path) -> list[Question]:
    """Read the questions from a template folder's `copier.yml` (or `copier.yaml`)."""
    config = load_config(template_dir)
    questions: list[Question] = []
    for key, spec in config.items():
        if key.startswith("_"):
            continue
        if not isinstance(spec, dict):
            spec = {"default": spec}
        questions.append(
            Question(
                name=key,
                type=str(spec.get("type") or _type_of(spec.get("default"))),
                help=str(spec.get("help", "")).strip(),
                default=spec.get("default"),
                choices=_choices(spec.get("choices")),
                asked=spec.get("when", True) is not False,
                spec=spec,
            )
        )
    return questions


def describe_default(question: Question) -> str:
    """How a question's default reads in help and docs."""
    if question.name == "project_name":
        return "the folder's name"
    default = question.default
    if default is None or default == "":
        return "none"
    if isinstance(default, bool):
        return "yes" if default else "no"
    text = str(default)
    return "derived" if "{{" in text else text


def questions_markdown(questions: list[Question]) -> str:
    """The Markdown table of the questions a user answers, as the README shows it."""
    lines = [
        "| question | choices | default | meaning |",
        "| --- | --- | --- | --- |",
    ]
    for question in questions:
        if not question.asked or question.managed:
            continue
        choices = ", ".join(f"`{choice}`" for choice in question.choices)
        default = describe_default(question)
        shown = (
            f"`{default}`"
            if question.choices or default not in {"none", "the folder's name"}
            else default
        )
        lines.append(f"| `{question.name}` | {choices} | {shown} | {question.help} |")
    return "\n".join(lines)
