"""The run's temporary folder and the environments for apiforge and generated projects."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

from apiforge.gates import find_python, project_env
from bench.commands import BenchError

DEFAULT_PYTHON = "3.11"  # the template's default `python_version`


class Workspace:
    """The run's temporary folder, the environments for apiforge and for generated projects.

    Child Pythons always cache bytecode, as they do on a developer's machine (some CI
    images turn it off with PYTHONDONTWRITEBYTECODE, which makes every start compile
    every module). apiforge's own bytecode goes to a cache inside the workspace, so the
    shared virtual environment is left as it was.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.pycache = root / "pycache"
        self.apiforge = Path(sys.executable).parent / "apiforge"
        if not self.apiforge.is_file():
            raise BenchError(
                f"{self.apiforge} not found; run `uv sync` and then "
                "`uv run python bench/run.py` from the repository."
            )
        self.python = find_python(DEFAULT_PYTHON)
        self._count = 0

    def folder(self, prefix: str) -> Path:
        """A new, empty folder for one project or one run."""
        self._count += 1
        path = self.root / f"{prefix}{self._count}"
        path.mkdir()
        return path

    def new_command(self, target: Path, *extra: str) -> list[str]:
        """`apiforge new` into *target* with the default answers (and *extra* options)."""
        return [str(self.apiforge), "new", str(target), "--yes", "--no-git", *extra]

    def apiforge_env(self, *, bytecode: bool = True) -> dict[str, str]:
        env = dict(os.environ)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(self.pycache)
        if not bytecode:
            # An empty cache that is never written: every module is compiled on each start.
            env["PYTHONPYCACHEPREFIX"] = str(self.root / "no-pycache")
            env["PYTHONDONTWRITEBYTECODE"] = "1"
        return env

    def project_env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """The environment of a user working in a generated project.

        apiforge's gates also byte-compile at install; a user's `uv sync` does so only
        when their own environment asks for it, so the benchmark follows theirs.
        """
        env = project_env(extra, python=self.python)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        if "UV_COMPILE_BYTECODE" not in os.environ:
            env.pop("UV_COMPILE_BYTECODE", None)
        return env
