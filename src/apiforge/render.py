"""The one wrapper around copier: render a template into a folder.

Copier is imported here, lazily, so commands that do not render never pay for
importing copier and Jinja. What the template is and where it comes from is
:mod:`apiforge.template`'s.
"""

from __future__ import annotations

import functools
import shutil
import warnings
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from apiforge import __version__
from apiforge.errors import UsageError, UserError
from apiforge.template import BUNDLED_SOURCE, TemplateSource

__all__ = ["copy_template", "record_bundled_source", "render_template"]


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
    the terminal. Copier's errors become :class:`UserError` with one line. With
    ``defaults``, copier renders only the part of the template that needs it and
    apiforge does the rest (see :func:`copy_template`); the project is the same.
    """
    import copier
    from copier.errors import CopierAnswersInterrupt, CopierError

    with source.open() as src, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run = functools.partial(
            copier.run_copy,
            dst_path=dest,
            data=dict(data),
            defaults=defaults,
            user_defaults=dict(user_defaults or {}),
            vcs_ref=None if source.is_bundled else source.ref,
            quiet=True,
            unsafe=False,
            cleanup_on_error=False,
            overwrite=True,
        )
        try:
            # Only when nothing is asked: a split render that fails starts again, which
            # would ask the questions again.
            copy_template(run, src, dest, split=defaults)
        except CopierAnswersInterrupt as exc:
            raise KeyboardInterrupt from exc
        except ValueError as exc:
            raise UsageError(_one_line(exc)) from exc
        except CopierError as exc:
            raise UserError(f"The template could not be rendered: {_one_line(exc)}") from exc
    if source.is_bundled:
        record_bundled_source(dest, __version__)


def copy_template(
    run: Callable[[str], object], src: str, dest: Path, *, split: bool = True
) -> None:
    """Have copier render the template *src* into *dest* with ``run(src)``.

    With *split*, copier is given a copy of a template folder with only what needs it
    (see :mod:`apiforge.verbatim`): copier renders every name as Jinja and builds a
    context and runs git for every file it writes, which is most of the time a render
    takes. Should the split render fail (a template including a file copier was not
    given, a Jinja error), the render starts again with the whole template, so that the
    project, or the error, is copier's own.
    """
    from copier.errors import YieldTagInFileError
    from jinja2 import TemplateError

    from apiforge.verbatim import SplitError, split_template

    with split_template(src) if split else nullcontext() as parts:
        if parts is not None:
            existed = dest.exists()
            try:
                run(str(parts.folder))
                parts.finish(dest)
            except (TemplateError, YieldTagInFileError, SplitError):
                _empty(dest, keep=existed)
            else:
                return
    run(src)


def _empty(folder: Path, *, keep: bool) -> None:
    """Remove what a failed render wrote: *folder*'s content, and *folder* unless *keep*."""
    if not folder.exists():
        return
    if not keep:
        shutil.rmtree(folder)
        return
    for path in folder.iterdir():
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def record_bundled_source(dest: Path, version: str) -> None:
    """Point the answers file at apiforge's template repository and *version*."""
    from apiforge.project import record_source

    record_source(dest, BUNDLED_SOURCE, f"v{version.removeprefix('v')}")
