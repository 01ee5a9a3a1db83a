"""The one wrapper around copier: render a template into a folder.

Copier is imported here, lazily, so commands that do not render never pay for
importing copier and Jinja. What the template is and where it comes from is
:mod:`apiforge.template`'s.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from apiforge import __version__
from apiforge.errors import UsageError, UserError
from apiforge.template import BUNDLED_SOURCE, TemplateSource

__all__ = ["record_bundled_source", "render_template"]


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
