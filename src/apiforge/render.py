"""The one wrapper around copier: render a template into a folder.

Everything that touches copier lives here, imported lazily, so commands that do
not render never pay for importing copier and Jinja.
"""

from __future__ import annotations

import contextlib
import re
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from apiforge import __version__
from apiforge.errors import UsageError, UserError
from apiforge.template_source import bundled_template_dir, staged_template

__all__ = ["BUNDLED_SOURCE", "TemplateSource", "record_bundled_source", "render_template"]

BUNDLED_SOURCE = "https://github.com/apiforge/apiforge.git"
"""What projects rendered from apiforge's own template record as their source.

It is the template repository, so plain `copier update` works wherever it is
reachable; apiforge itself renders the copy it ships, offline.
"""

_GIT_URL = re.compile(r"^([a-z][a-z0-9+.-]*://|[\w.-]+@[\w.-]+:|gh:|gl:)", re.IGNORECASE)


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

    @contextlib.contextmanager
    def open(self) -> Iterator[str]:
        """Yield the source as copier should read it."""
        if self.is_bundled:
            with staged_template(bundled_template_dir()) as folder:
                yield str(folder)
        else:
            yield self.location


def render_template(
    source: TemplateSource,
    dest: Path,
    *,
    data: Mapping[str, Any],
    defaults: bool,
    user_defaults: Mapping[str, Any] | None = None,
) -> None:
    """Render *source* into *dest* (which must not exist yet, or be empty).

    With ``defaults`` false copier asks the questions not answered by *data* at
    the terminal. Copier's errors become :class:`UserError` with one line.
    """
    import copier
    from copier.errors import CopierAnswersInterrupt, CopierError

    with source.open() as src, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            copier.run_copy(
                src,
                dest,
                data=dict(data),
                defaults=defaults,
                user_defaults=dict(user_defaults or {}),
                vcs_ref=None if source.is_bundled else source.ref,
                quiet=True,
                unsafe=False,
                cleanup_on_error=False,
                overwrite=True,
            )
        except CopierAnswersInterrupt as exc:
            raise KeyboardInterrupt from exc
        except ValueError as exc:
            raise UsageError(_one_line(exc)) from exc
        except CopierError as exc:
            raise UserError(f"The template could not be rendered: {_one_line(exc)}") from exc
    if source.is_bundled:
        record_bundled_source(dest, __version__)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def record_bundled_source(dest: Path, version: str) -> None:
    """Point the answers file at apiforge's template repository and *version*."""
    from apiforge.project import record_source

    record_source(dest, BUNDLED_SOURCE, f"v{version.removeprefix('v')}")
