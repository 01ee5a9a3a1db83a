"""The programs apiforge runs inside generated projects, found once.

uv is run by its real path, never by name: inside a project whose
`.python-version` differs from the interpreter pyenv has active, a pyenv shim
named ``uv`` looks for uv in that other Python and fails.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from pathlib import Path

from apiforge.errors import UserError

__all__ = ["find_uv"]


@functools.cache
def find_uv() -> str:
    """The path of the uv executable; :class:`UserError` when there is none.

    The uv that apiforge installs with itself comes first; then the one on PATH,
    with a pyenv shim resolved to the executable it stands for.
    """
    try:
        from uv import find_uv_bin
    except ImportError:
        pass
    else:
        try:
            return str(find_uv_bin())
        except FileNotFoundError:
            pass
    found = shutil.which("uv")
    if found is None:
        raise UserError("uv is not installed; install it (`pip install uv`) and try again.")
    if Path(found).parent.name == "shims" and shutil.which("pyenv"):
        resolved = subprocess.run(
            ["pyenv", "which", "uv"], capture_output=True, text=True, check=False
        ).stdout.strip()
        if resolved:
            return resolved
    return found
